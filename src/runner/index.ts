/**
 * The runner's public API: run a `.grad.ts` file or a snippet in an isolated worker and get
 * back a `RunResult` (graphs, source sites, bindings, console, errors, gradient checks).
 * No vscode imports: the CLI and the extension both use this module.
 */
import type { RunResult, SourceRange } from "./trace";

export interface RunOptions {
  /** Stop the run after this many milliseconds (default 10000). */
  timeLimitMs?: number;
  /** The worker's heap limit in MB (default 2048). */
  heapLimitMb?: number;
  /** Graphs with more nodes are cut to the nodes nearest the root (`RootGraph.truncated`). */
  nodeLimit?: number;
  /** Aborting it cancels the run ("cancelled" error). */
  signal?: AbortSignal;
  gradcheck?: { eps?: number; atol?: number; rtol?: number; seed?: number };
  /** Record where each value was made (default true); false runs the code as written (benchmarks). */
  sourceTracking?: boolean;
}

export interface SnippetOrigin {
  file: string;
  /** 1-based line of the snippet's first line in that file. */
  line: number;
  /** 1-based column of the snippet's first character on that line. */
  column: number;
}

export interface CheckableFunction {
  name: string;
  range: SourceRange;
  params: { name: string; kind: "scalar" | "array" }[];
  /** The point from a `@gradcheck` JSDoc tag, if the function has one. */
  point?: Record<string, number | number[]>;
}

export declare function runFile(file: string, options?: RunOptions): Promise<RunResult>;
export declare function runSnippet(code: string, origin: SnippetOrigin, options?: RunOptions): Promise<RunResult>;
export declare function checkFile(file: string, options?: RunOptions & { functionName?: string }): Promise<RunResult>;
export declare function findCheckableFunctions(source: string, file: string): CheckableFunction[];
export declare function findCodeBlockAt(markdown: string, line: number): { language: string; code: string; startLine: number } | undefined;
