/**
 * `gradlens train FILE [--json] [--steps N] [--timeout S]`: runs a training program (.grad.ts or
 * .py) and prints one line per backward() call — step, loss, overall grad norm, and the worst
 * (largest) update ratio of any parameter group — as the steps happen; `--json` prints them all
 * at the end as `{ "steps": [ … ] }`.
 */
import * as path from "node:path";
import { runFile } from "../runner";
import { runPython } from "../runner/python";
import { DEFAULT_TRAINING_TIME_LIMIT_MS, TrainingControl } from "../runner/training/control";
import type { RunError } from "../protocol/result";
import type { StepRecord, TrainingResult } from "../protocol/training";

export const TRAIN_USAGE = `Usage: gradlens train FILE [--json] [--steps N] [--timeout SECONDS]

Runs FILE (.grad.ts, .ts, .js or .py) and records every backward() call as a training step:
the loss, the 2-norm of the parameters' grads (overall and per group) and the update ratio
|Δp|/|p| of each parameter group.

Options:
  --json             print { "steps": [ … ] } at the end instead of a table
  --steps N          stop the program cleanly after N backward() calls
  --timeout SECONDS  stop the run after SECONDS (default ${DEFAULT_TRAINING_TIME_LIMIT_MS / 1000})`;

export interface TrainArgs {
  file: string;
  json: boolean;
  steps?: number;
  timeoutSeconds?: number;
}

export type TrainParse = { ok: true; args: TrainArgs } | { ok: false; message: string } | { ok: "help" };

export function parseTrainArgs(argv: readonly string[]): TrainParse {
  let file: string | undefined;
  let json = false;
  let steps: number | undefined;
  let timeoutSeconds: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") return { ok: "help" };
    if (arg === "--json") json = true;
    else if (arg === "--steps" || arg === "--timeout") {
      const n = Number(argv[++i]);
      if (argv[i] === undefined || !Number.isFinite(n) || n <= 0 || (arg === "--steps" && !Number.isInteger(n))) {
        return { ok: false, message: arg === "--steps" ? "--steps needs a positive whole number" : "--timeout needs a positive number of seconds" };
      }
      if (arg === "--steps") steps = n;
      else timeoutSeconds = n;
    } else if (arg.startsWith("-")) return { ok: false, message: `unknown option ${arg}` };
    else if (file === undefined) file = arg;
    else return { ok: false, message: `unexpected argument ${arg}` };
  }
  if (file === undefined) return { ok: false, message: "train needs a FILE" };
  return { ok: true, args: { file, json, ...(steps !== undefined ? { steps } : {}), ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) } };
}

/** `step  loss  grad norm  worst update ratio (group)` columns. */
export function tableHeader(): string {
  return `${"step".padStart(6)}  ${"loss".padStart(12)}  ${"grad norm".padStart(12)}  worst update ratio`;
}

export function tableRow(s: StepRecord): string {
  let worst: [string, number] | undefined;
  for (const [name, g] of Object.entries(s.groups)) if (!worst || g.updateRatio > worst[1] || Number.isNaN(g.updateRatio)) worst = [name, g.updateRatio];
  const ratio = worst ? `${num(worst[1])} (${worst[0]})` : "-";
  return `${String(s.step).padStart(6)}  ${num(s.loss).padStart(12)}  ${num(s.gradNorm).padStart(12)}  ${ratio}${s.nonFinite ? "  non-finite!" : ""}`;
}

function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(3);
  return x.toFixed(6);
}

/**
 * The `--json` document: exactly the documented fields per step (no timings), and `thinned` when a
 * long run kept only every `every`-th of its `steps` steps (src/protocol/stepLog.ts). NaN and ±Infinity become null.
 */
export function trainJson(training: Pick<TrainingResult, "steps" | "thinned">): { steps: Omit<StepRecord, "timeMs">[]; thinned?: { every: number; steps: number } } {
  const steps = training.steps.map(({ step, loss, gradNorm, groups, deadReluFraction, nonFinite }) => ({ step, loss, gradNorm, groups, deadReluFraction, nonFinite }));
  return training.thinned ? { steps, thinned: training.thinned } : { steps };
}

/** The note for a thinned run (stderr of the table form). */
export function thinnedNote(file: string, thinned: { every: number; steps: number }): string {
  return `${file}: note: ${thinned.steps} steps were recorded; past the first ones only one step in ${thinned.every} was kept (and the first non-finite and the last step)`;
}

export async function trainCommand(argv: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const parsed = parseTrainArgs(argv);
  if (parsed.ok === "help") {
    out.write(`${TRAIN_USAGE}\n`);
    return 0;
  }
  if (!parsed.ok) {
    err.write(`gradlens: ${parsed.message}\n\n${TRAIN_USAGE}\n`);
    return 2;
  }
  const { args } = parsed;
  const file = path.resolve(args.file);
  let printedHeader = false;
  let lastPrinted = 0;
  const control = new TrainingControl((progress) => {
    if (args.json) return;
    if (!printedHeader) {
      out.write(`${tableHeader()}\n`);
      printedHeader = true;
    }
    for (const s of progress.steps) out.write(`${tableRow(s)}\n`);
    lastPrinted = progress.steps.at(-1)?.step ?? lastPrinted;
  });
  const options = control.runOptions(args.timeoutSeconds !== undefined ? args.timeoutSeconds * 1000 : DEFAULT_TRAINING_TIME_LIMIT_MS, args.steps);
  const result = /\.py$/i.test(file) ? await runPython({ file }, options) : await runFile(file, options);
  const training = control.finish(result);
  for (const line of result.console) err.write(`${line.text}\n`);
  if (args.json) out.write(`${JSON.stringify(trainJson(training))}\n`);
  else {
    // Steps that were completed only at the end (the last one) were not streamed as a table row yet.
    if (!printedHeader && training.steps.length > 0) out.write(`${tableHeader()}\n`);
    for (const s of training.steps) if (s.step > lastPrinted) out.write(`${tableRow(s)}\n`);
    if (training.thinned) err.write(`${thinnedNote(file, training.thinned)}\n`);
    if (training.steps.length === 0) err.write(`${file}: note: the program never called backward(), so there are no training steps\n`);
    if (control.stopped === "time-limit") err.write(`${file}: stopped at the time limit after ${training.thinned?.steps ?? training.steps.length} steps\n`);
  }
  if (result.error && result.error.kind !== "cancelled") return cannotRun(result.error, file, err);
  return 0;
}

function cannotRun(error: RunError, file: string, err: NodeJS.WritableStream): number {
  const p = error.position;
  err.write(`${p ? `${p.file}:${p.line}:${p.column}` : file}: ${error.kind === "runtime" || error.kind === "syntax" ? "error" : error.kind}: ${error.message}\n`);
  return 2;
}
