/**
 * Runs one bundle of user code in a child process (dist/runnerWorker.js, see worker.ts), never in
 * the caller's process: Node itself (`process.execPath`; inside VS Code the editor's own binary as
 * Node, as language servers are started) with a heap limit, in its own process group
 * (process/childRun.ts enforces the limits). It reads the child's messages, trusting only the run's
 * own (protocol.ts), and keeps the latest checkpoint, so a run killed hard still has its graphs.
 * Always resolves; never throws.
 */
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import * as l10n from "@vscode/l10n";
import { currentTranslations } from "./localization";
import { PROTOCOL_VERSION, readChildMessage, type HostMessage, type WorkerConsoleLine, type WorkerInput, type WorkerOutput } from "./protocol";
import { type PreparedChild, type ProcessSpec, type StopCause } from "./process/childRun";
import { WarmChild } from "./process/warmChild";
import { ColumnAssembly } from "./process/columnTransfer";
import { CHECKPOINT_INTERVAL_MS, MAX_LINE_CHARS, OUTPUT_BUDGET_CHARS, type RunLimits } from "../protocol/limits";
import type { RunError } from "../protocol/result";
import type { WorkerTrainingProgress } from "./training/workerTraining";

export interface WorkerLimits extends RunLimits {
  signal?: AbortSignal;
  /** Step records of a training run, as they stream in. */
  onTraining?: (progress: WorkerTrainingProgress) => void;
}

export interface WorkerOutcome {
  /** What the child sent at its end, or else its latest checkpoint (`fromCheckpoint`). */
  output?: WorkerOutput;
  fromCheckpoint: boolean;
  /** How the run ended where the child could not say it itself (killed, crashed, cancelled). */
  error?: RunError;
  /** Set when GradLens stopped the run: the child's own report of it is in `output.error`. */
  stopped?: StopCause;
  /** Console calls (with their site) and the child's raw output, in arrival order. */
  console: WorkerConsoleLine[];
  /** Characters of output over the budget, counted and dropped. */
  droppedChars: number;
  /** Messages on the channel that were not GradLens's own (forged or malformed), ignored. */
  foreignMessages: number;
  startupMs?: number;
}

/** dist/runnerWorker.js next to the running bundle, or built from source for tests (env override). */
export function workerScriptPath(): string | undefined {
  const candidates = [process.env.GRADLENS_RUNNER_WORKER, path.join(__dirname, "runnerWorker.js"), path.join(__dirname, "..", "..", "dist", "runnerWorker.js")];
  const found = candidates.find((c): c is string => typeof c === "string" && c !== "" && existsSync(c));
  return found === undefined ? undefined : path.resolve(found);
}

export type ChildInput = Omit<WorkerInput, "translations" | "timeLimitMs" | "startedAt" | "memoryLimitMb" | "outputBudgetChars" | "maxLineChars" | "checkpointIntervalMs">;

const warm = new WarmChild();

/**
 * On (the editor): each run's process is started ahead of it, while the previous result is read,
 * so a run does not wait for Node to start (process/warmChild.ts). Off (the default, the CLI).
 */
export function keepChildWarm(enabled: boolean): void {
  warm.setEnabled(enabled);
}

/** The pid of the process waiting for the next run (tests). */
export function warmChildPid(): number | undefined {
  return warm.pid;
}

/** A child process for a run, started before its code is bundled (the two overlap). */
export interface PreparedWorker {
  spec: ProcessSpec;
  child: PreparedChild;
}

/** Starts (or takes the waiting) child for a run with these limits; undefined when the worker script is missing. */
export function prepareWorker(limits: RunLimits): PreparedWorker | undefined {
  const script = workerScriptPath();
  if (!script) return undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: "1" };
  // Not the caller's options (a loader hook, an inspector port): user code gets a plain Node.
  delete env.NODE_OPTIONS;
  // The run's own directory is set when it starts (the child changes to it): any process can wait for any run.
  const spec: ProcessSpec = { command: process.execPath, args: [...heapFlags(limits.memoryLimitMb), script], cwd: path.dirname(script), env, ipc: true };
  return { spec, child: warm.take(spec) };
}

/**
 * Starts the child for the next run with these limits now, before that run is asked for (the CLI,
 * before it loads the rest of itself); the run takes it as it would a warm one.
 */
export function prestartWorker(limits: RunLimits): void {
  const prepared = prepareWorker(limits);
  if (prepared) warm.hold(prepared.spec, prepared.child);
}

/** A prepared child whose run did not happen (the code did not bundle): it waits for the next run, or goes. */
export function releaseWorker(prepared: PreparedWorker | undefined): void {
  if (prepared) warm.giveBack(prepared.spec, prepared.child);
}

export async function runInWorker(input: ChildInput, limits: WorkerLimits, prepared = prepareWorker(limits)): Promise<WorkerOutcome> {
  const outcome: WorkerOutcome = { fromCheckpoint: false, console: [], droppedChars: 0, foreignMessages: 0 };
  if (!prepared) return { ...outcome, error: { kind: "internal", message: l10n.t("the runner's worker script (runnerWorker.js) is missing: run `npm run build`") } };
  if (limits.signal?.aborted) {
    releaseWorker(prepared);
    return { ...outcome, error: { kind: "cancelled", message: l10n.t("the run was cancelled") } };
  }

  const token = randomBytes(18).toString("base64url");
  const started = performance.now();
  const startedAt = Date.now();
  let result: WorkerOutput | undefined;
  let resultAt = 0;
  let checkpoint: WorkerOutput | undefined;
  let failure: string | undefined;
  let stderrTail: string[] = [];
  const columns = new ColumnAssembly();
  const child = prepared.child.start({
    limits,
    signal: limits.signal,
    onStopRequest: (reason) => send({ type: "stop", reason }),
    onLine: (stream, text) => {
      // Written to the descriptor directly (native code, a process the program started).
      outcome.console.push({ stream, text, siteId: 0 });
      if (stream === "stderr") stderrTail = [...stderrTail.slice(-20), text];
    },
    onMessage: (raw) => {
      const message = readChildMessage(raw, token, columns);
      if (!message) {
        outcome.foreignMessages++;
        return;
      }
      switch (message.type) {
        case "column":
          if (!columns.add(message.piece)) outcome.foreignMessages++;
          break;
        case "console":
          for (const line of message.lines) outcome.console.push(line);
          outcome.droppedChars += message.droppedChars;
          break;
        case "checkpoint":
          checkpoint = message.output;
          break;
        case "result":
          result = message.output;
          resultAt = performance.now();
          break;
        case "failure":
          failure = message.message;
          break;
        case "training":
          limits.onTraining?.(message.progress);
          break;
      }
    },
  });
  const send = (message: HostMessage) => {
    try {
      if (child.process?.connected) child.process.send(message, () => undefined);
    } catch {
      // The child is gone: its end is read from its exit.
    }
  };
  send({
    type: "start",
    version: PROTOCOL_VERSION,
    token,
    input: {
      ...input,
      translations: currentTranslations(),
      timeLimitMs: limits.timeLimitMs,
      startedAt,
      memoryLimitMb: limits.memoryLimitMb,
      outputBudgetChars: OUTPUT_BUDGET_CHARS,
      maxLineChars: MAX_LINE_CHARS,
      checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
    },
  });

  const end = await child.ended;
  // The next run's process starts now, while this result is read (when kept warm).
  warm.prepareNext(prepared.spec);
  outcome.droppedChars += end.droppedChars;
  outcome.stopped = end.stopped;
  if (end.startError) return { ...outcome, error: { kind: "internal", message: l10n.t("could not start the worker: {0}", end.startError.message) } };
  if (result) {
    outcome.output = result;
    // From the spawn until the user's code ran, and the result's trip back.
    outcome.startupMs = resultAt - started - result.durationMs;
    return outcome;
  }
  if (checkpoint) {
    outcome.output = checkpoint;
    outcome.fromCheckpoint = true;
  }
  if (failure !== undefined) return { ...outcome, error: { kind: "internal", message: l10n.t("the runner failed: {0}", failure) } };
  outcome.error = endedWithoutResult(end, limits, stderrTail);
  return outcome;
}

/**
 * The heap's own limit is a backstop above the memory limit, which the watchdogs measure first.
 * Autograd code makes millions of short-lived objects while it keeps a graph alive: a young
 * generation larger than Node's default lets most die in cheap scavenges (measured: a microgpt step
 * takes about 2.5× less CPU with 64 MB semi-spaces than with the default), within the memory limit.
 * It starts at that size too: grown on demand, it is small while the user's code warms up and
 * after V8 shrinks it, and the kept graph of the last backward() is copied by every scavenge
 * (measured: microgpt steps 1.27× → 1.18× plain node; a 50-step training run 11% faster). The
 * pages are only touched as they are used: a one-line run's RSS does not change. The old
 * generation may grow to a quarter of the limit before its first full collection: each step's kept
 * graph is promoted there, and the early mark-compacts of a training loop cost a few % of its steps.
 */
function heapFlags(memoryLimitMb: number): string[] {
  const semi = Math.max(8, Math.min(64, memoryLimitMb >> 4));
  return [`--max-old-space-size=${memoryLimitMb + Math.max(32, memoryLimitMb >> 2)}`, `--max-semi-space-size=${semi}`, `--min-semi-space-size=${semi}`, `--initial-old-space-size=${memoryLimitMb >> 2}`];
}

/** Why a child sent no result: GradLens killed it at a limit, or it died on its own. */
function endedWithoutResult(end: { stopped?: StopCause; signal: NodeJS.Signals | null; exitCode: number | null }, limits: RunLimits, stderr: string[]): RunError {
  const heapExhausted = stderr.some((line) => /Reached heap limit|JavaScript heap out of memory|Allocation failed/.test(line));
  if (end.stopped === "memory" || heapExhausted) return { kind: "memory", message: "" };
  if (end.stopped === "timeout") return { kind: "timeout", message: "" };
  if (end.stopped === "cancelled") return { kind: "cancelled", message: l10n.t("the run was cancelled") };
  if (end.signal) return { kind: "signal", message: l10n.t("the program was killed by the signal {0}", end.signal) };
  return { kind: "exit", message: l10n.t("the program ended with exit code {0} before GradLens could read its values", String(end.exitCode)) };
}
