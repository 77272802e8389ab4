/** The one way to make a result with nothing recorded (a run that could not start, or failed early). */
import type { ConsoleLine, RunError, RunResult } from "./result";

export function emptyResult(language: RunResult["language"], file: string, error: RunError | undefined, durationMs: number, console: ConsoleLine[] = []): RunResult {
  return { ok: error === undefined, language, file, roots: [], sites: [], bindings: [], console, ...(error ? { error } : {}), stats: { durationMs, nodeCount: 0 } };
}
