/**
 * The latest results per source file: the last run (graphs, bindings, errors) and the last gradient
 * check of each function. Hovers, inline values, lenses, diagnostics and the status bar all read from
 * here and redraw when it fires `onDidChange`. Edits make a file's results stale until the next run.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import type { FunctionCheckResult, RunResult } from "../protocol/result";

export interface FileResults {
  /** The last run whose file (or snippet origin) is this file. */
  run?: RunResult;
  /** The last check of each function, by function name. */
  checks: Map<string, FunctionCheckResult>;
  /**
   * The latest run or check of the file, whichever came last: its error and non-finite report are
   * the file's current problems (a check runs the file too, so a later successful run clears its error).
   */
  latest?: RunResult;
  /** The text changed after the run: its positions may no longer match. */
  stale: boolean;
  /** The text changed after the check: the verdicts may no longer hold. */
  checksStale: boolean;
}

/** Files are keyed by their normalised absolute path, the form `RunResult.file` uses. */
export function fileKey(file: string): string {
  return path.normalize(file);
}

export class ResultStore implements vscode.Disposable {
  private readonly byFile = new Map<string, FileResults>();
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  /** Fires with the file whose results changed, or undefined when all were cleared. */
  readonly onDidChange = this.changed.event;
  /** The result that finished last, of any file (the status bar shows it). */
  last: RunResult | undefined;

  get(file: string): FileResults | undefined {
    return this.byFile.get(fileKey(file));
  }

  /** The last run of the file, if it still matches the file's text. */
  freshRun(file: string): RunResult | undefined {
    const entry = this.get(file);
    return entry && !entry.stale ? entry.run : undefined;
  }

  /** The verdict of the last check of a function, if the file has not changed since. */
  freshCheck(file: string, functionName: string): FunctionCheckResult | undefined {
    const entry = this.get(file);
    return entry && !entry.checksStale ? entry.checks.get(functionName) : undefined;
  }

  files(): string[] {
    return [...this.byFile.keys()];
  }

  setRun(result: RunResult): void {
    const entry = this.entry(result.file);
    entry.run = result;
    entry.latest = result;
    entry.stale = false;
    this.last = result;
    this.changed.fire(fileKey(result.file));
  }

  /** Keeps the verdicts of this check's functions; a check of one function leaves the others. */
  setChecks(result: RunResult, onlyFunction?: string): void {
    const entry = this.entry(result.file);
    if (!onlyFunction) entry.checks.clear();
    for (const check of result.checks ?? []) entry.checks.set(check.name, check);
    entry.latest = result;
    entry.checksStale = false;
    this.last = result;
    this.changed.fire(fileKey(result.file));
  }

  /**
   * The file was edited: hovers and inline values stop and lenses go back to "Check gradient";
   * diagnostics stay until the next run or check shows whether the problem is fixed.
   */
  markStale(file: string): void {
    const entry = this.get(file);
    if (!entry || (entry.stale && entry.checksStale)) return;
    entry.stale = true;
    entry.checksStale = true;
    this.changed.fire(fileKey(file));
  }

  clear(): void {
    this.byFile.clear();
    this.last = undefined;
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private entry(file: string): FileResults {
    const key = fileKey(file);
    let entry = this.byFile.get(key);
    if (!entry) {
      entry = { checks: new Map(), stale: false, checksStale: false };
      this.byFile.set(key, entry);
    }
    return entry;
  }
}
