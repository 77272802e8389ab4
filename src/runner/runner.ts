import type { TrainingRunOptions } from "./training/options";
/**
 * What every language's runner does, so callers (RunService, the CLI) never ask which language a
 * file is in beyond picking the runner (`runnerFor` in index.ts). Cancelling is the options' signal.
 */
import type { RunResult } from "../protocol/result";
import type { LimitOptions } from "../protocol/limits";

export type RunLanguage = "typescript" | "python";

export interface RunnerOptions extends LimitOptions {
  /** A graph with more nodes is not captured; the run reports a "too-large" error instead. */
  nodeLimit?: number;
  /** Aborting it cancels the run ("cancelled" error). */
  signal?: AbortSignal;
  gradcheck?: { eps?: number; atol?: number; rtol?: number; seed?: number };
  /** Record where each value was made (default true); false runs the code as written (benchmarks). */
  sourceTracking?: boolean;
  /** Python: the interpreter to use (else python3/python on PATH). */
  pythonPath?: string;
  /** Record per-step training statistics (src/runner/training/). */
  training?: TrainingRunOptions;
}

export interface SnippetOrigin {
  file: string;
  /** 1-based line of the snippet's first line in that file. */
  line: number;
  /** 1-based column of the snippet's first character on that line. */
  column: number;
}

export interface Runner {
  readonly language: RunLanguage;
  /** Runs a whole file (with what it imports). */
  runFile(file: string, options?: RunnerOptions): Promise<RunResult>;
  /**
   * Runs code selected from a file (or a Markdown code block); `document` is the file's whole text
   * as the editor has it, for code blocks that build on earlier ones.
   */
  runSnippet(code: string, origin: SnippetOrigin, options?: RunnerOptions & { document?: string; /** also check the ops' local gradients ("Check ops") */ opChecks?: boolean }): Promise<RunResult>;
  /**
   * Runs the file, then a gradient check of every checkable function (or only `functionName`), and
   * of the local gradients of the ops in the run's graphs; `opsOnly`: the op checks alone ("Check ops").
   */
  checkFile(file: string, options?: RunnerOptions & { functionName?: string; opsOnly?: boolean }): Promise<RunResult>;
}

/** The language a file is run as, by its name (Markdown code blocks say theirs). */
export function languageOfFile(file: string): RunLanguage {
  return /\.py[w]?$/i.test(file) ? "python" : "typescript";
}
