/**
 * What `gradlens graph|check FILE` runs: a TypeScript/JavaScript file, a Python file, or the code block
 * at a line of a Markdown file (with the earlier Python blocks it builds on, as in the editor).
 */
import { readFile } from "node:fs/promises";
import { findCodeBlockAt, languageOfFile, runnerFor, runSnippet, type RunOptions } from "../runner";
import { checkPython, isPythonFence, runPython } from "../runner/python";
import type { RunResult } from "../protocol/result";

export type CliRunOptions = RunOptions & { functionName?: string };

const TYPESCRIPT_FENCES = new Set(["ts", "typescript", "js", "javascript"]);

export async function runCliTarget(command: "graph" | "check", file: string, line: number | undefined, options: CliRunOptions): Promise<RunResult> {
  if (line === undefined) {
    const runner = runnerFor(languageOfFile(file));
    return command === "check" ? runner.checkFile(file, options) : runner.runFile(file, options);
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return failed(file, `cannot read ${file}`);
  }
  const block = findCodeBlockAt(text, line);
  if (!block) return failed(file, `there is no fenced code block at line ${line}`);
  const origin = { file, line: block.startLine, column: 1 };
  if (isPythonFence(block.language)) {
    const input = { file, code: block.code, origin, document: text };
    return command === "check" ? checkPython(input, options) : runPython(input, options);
  }
  if (TYPESCRIPT_FENCES.has(block.language)) {
    if (command === "check") return failed(file, "gradient checks of TypeScript run on .grad.ts files; in Markdown, on ```python blocks");
    return runSnippet(block.code, origin, options);
  }
  return failed(file, `GradLens cannot run a "${block.language || "?"}" code block`);
}

function failed(file: string, message: string): RunResult {
  return { ok: false, language: "typescript", file, roots: [], sites: [], bindings: [], console: [], error: { kind: "runtime", message }, stats: { durationMs: 0, nodeCount: 0 } };
}
