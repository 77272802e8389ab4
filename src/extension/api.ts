/**
 * What `activate()` returns: a small read-only view of the extension's state, for the integration
 * tests (and any extension that wants GradLens's last results).
 */
import type { RunResult } from "../protocol/result";
import type { InlineValueDecorations } from "./inlineValues";
import type { ResultStore } from "./results";
import type { RunService } from "./runService";
import type { ResultStatusBar } from "./statusBar";

export interface GradLensApi {
  /** How long `activate()` took, in milliseconds (wall clock). */
  readonly activationMs: number;
  /** The CPU time `activate()` used, in milliseconds (what it costs when the machine is busy elsewhere). */
  readonly activationCpuMs: number;
  /** Runs of user code started since activation (0 in Restricted Mode, whatever was asked). */
  runCount(): number;
  /** The last run of a file, if its text has not changed since. */
  lastRun(file: string): RunResult | undefined;
  /** The inline value texts shown at line ends in the file's visible editors. */
  inlineValueTexts(file: string): string[];
  /** The status bar item's text. */
  statusBarText(): string;
  /** Cancels every run in progress (what the progress notification's Cancel does). */
  cancelRuns(): void;
}

export function createApi(
  { activationMs, activationCpuMs }: { activationMs: number; activationCpuMs: number },
  parts: { runs: RunService; store: ResultStore; inlineValues: InlineValueDecorations; statusBar: ResultStatusBar },
): GradLensApi {
  return {
    activationMs,
    activationCpuMs,
    runCount: () => parts.runs.runCount,
    lastRun: (file) => parts.store.freshRun(file),
    inlineValueTexts: (file) => parts.inlineValues.textsFor(file),
    statusBarText: () => parts.statusBar.text,
    cancelRuns: () => parts.runs.cancelAll(),
  };
}
