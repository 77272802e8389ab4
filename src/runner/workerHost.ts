/**
 * Starts the worker thread for one run and enforces its limits: time (terminate and report the loop
 * it was in), heap (`resourceLimits`), and cancellation. Always resolves; never throws.
 */
import { Worker } from "node:worker_threads";
import { existsSync } from "node:fs";
import { once } from "node:events";
import * as path from "node:path";
import * as l10n from "@vscode/l10n";
import { currentTranslations } from "./localization";
import type { WorkerConsoleLine, WorkerInput, WorkerMessage, WorkerOutput } from "./protocol";
import type { RunError } from "../protocol/result";
import type { TrainingProgress } from "../protocol/training";

/** How long a finished run waits for the last raw stdout/stderr chunks. */
const STDIO_GRACE_MS = 250;
/** Raw process.stdout/stderr writes kept (console calls are capped in the worker). */
const MAX_RAW_CHUNKS = 1000;

export interface WorkerLimits {
  timeLimitMs: number;
  heapLimitMb: number;
  signal?: AbortSignal;
  /** Step records of a training run, as they stream in. */
  onTraining?: (progress: TrainingProgress) => void;
}

export type WorkerOutcome =
  | { ok: true; output: WorkerOutput; console: WorkerConsoleLine[]; startupMs: number }
  /** `loopSite`: the id of the loop the code was last in (0 when unknown). */
  | { ok: false; error: RunError; loopSite: number; console: WorkerConsoleLine[] };

/** dist/runnerWorker.js next to the running bundle, or built from source for tests (env override). */
export function workerScriptPath(): string | undefined {
  const candidates = [process.env.GRADLENS_RUNNER_WORKER, path.join(__dirname, "runnerWorker.js"), path.join(__dirname, "..", "..", "dist", "runnerWorker.js")];
  const found = candidates.find((c): c is string => typeof c === "string" && c !== "" && existsSync(c));
  return found === undefined ? undefined : path.resolve(found);
}

export function runInWorker(input: WorkerInput & { entryFile: string }, limits: WorkerLimits): Promise<WorkerOutcome> {
  const script = workerScriptPath();
  // Console calls (with their site) and raw process.stdout/stderr writes, in arrival order.
  const stdio: WorkerConsoleLine[] = [];
  const loopSite = new Int32Array(input.currentSite);
  if (!script) {
    return Promise.resolve({ ok: false, error: { kind: "internal", message: l10n.t("the runner's worker script (runnerWorker.js) is missing: run `npm run build`") }, loopSite: 0, console: stdio });
  }
  if (limits.signal?.aborted) return Promise.resolve({ ok: false, error: { kind: "cancelled", message: l10n.t("the run was cancelled") }, loopSite: 0, console: stdio });

  return new Promise<WorkerOutcome>((resolve) => {
    const started = performance.now();
    let settled = false;
    let worker: Worker;
    try {
      worker = new Worker(script, {
        workerData: { ...input, translations: currentTranslations() },
        resourceLimits: { maxOldGenerationSizeMb: limits.heapLimitMb, maxYoungGenerationSizeMb: youngGenerationMb(limits.heapLimitMb) },
        // Not the caller's flags (a loader hook, an inspector port): user code gets a plain Node.
        execArgv: [],
        stdout: true,
        stderr: true,
      });
    } catch (error) {
      resolve({ ok: false, error: { kind: "internal", message: l10n.t("could not start the worker: {0}", String(error)) }, loopSite: 0, console: stdio });
      return;
    }
    let rawChunks = 0;
    const captureStream = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      if (rawChunks++ < MAX_RAW_CHUNKS) stdio.push({ stream, text: chunk.toString("utf8").replace(/\n$/, ""), siteId: 0 });
    };
    worker.stdout.on("data", captureStream("stdout"));
    worker.stderr.on("data", captureStream("stderr"));

    // Raw process.stdout writes travel on their own channel: wait (briefly) for the streams to end.
    const streamsEnded = Promise.all([once(worker.stdout, "end"), once(worker.stderr, "end")]).catch(() => undefined);
    const finish = (outcome: WorkerOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener("abort", onAbort);
      void worker.terminate();
      void Promise.race([streamsEnded, new Promise((r) => setTimeout(r, STDIO_GRACE_MS))]).then(() => resolve(outcome));
    };
    const fail = (error: RunError) => finish({ ok: false, error, loopSite: loopSite[0], console: stdio });
    const onAbort = () => fail({ kind: "cancelled", message: l10n.t("the run was cancelled") });
    const timer = setTimeout(() => fail({ kind: "timeout", message: l10n.t("stopped after {0}: the code was still running (an endless loop?)", formatSeconds(limits.timeLimitMs)) }), limits.timeLimitMs);
    limits.signal?.addEventListener("abort", onAbort);

    worker.on("message", (message: WorkerMessage) => {
      if ("console" in message) stdio.push(message.console);
      else if ("training" in message && !("roots" in message)) limits.onTraining?.(message.training);
      else if ("internalError" in message) fail({ kind: "internal", message: l10n.t("the runner failed: {0}", message.internalError) });
      else finish({ ok: true, output: message, console: stdio, startupMs: performance.now() - started - message.durationMs });
    });
    worker.on("error", (error: Error & { code?: string }) => {
      if (error.code === "ERR_WORKER_OUT_OF_MEMORY") {
        fail({ kind: "memory", message: l10n.t("ran out of memory: the run needed more than its {0} MB heap limit (a graph that keeps growing?)", limits.heapLimitMb) });
      } else {
        fail({ kind: "runtime", message: error instanceof Error ? error.message : String(error) });
      }
    });
    worker.on("exit", (code) => fail({ kind: "internal", message: l10n.t("the worker stopped unexpectedly (exit code {0})", code) }));
  });
}

/**
 * Autograd code makes millions of short-lived objects: a larger young generation than a worker's
 * default lets most die in cheap scavenges (measured: about a fifth less CPU per microgpt step).
 */
function youngGenerationMb(heapLimitMb: number): number {
  return Math.max(8, Math.min(64, Math.floor(heapLimitMb / 4)));
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
