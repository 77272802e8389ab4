/**
 * The Problems panel: a run's error and its first non-finite value at their source lines, and each
 * gradient mismatch at its function. Rebuilt from the result store, so a new run clears what it fixed.
 */
import * as vscode from "vscode";
import type { FunctionCheckResult, OpCheckResult, RunResult, SourcePosition, SourceRange } from "../protocol/result";
import { mismatchSummary, opMessage } from "../protocol/checkVerdict";
import { editorWords } from "./verdict";
import type { ResultStore } from "./results";

export class ResultDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("gradlens");
  private readonly subscription: vscode.Disposable;

  constructor(private readonly store: ResultStore) {
    this.subscription = store.onDidChange(() => this.refresh());
  }

  private refresh(): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    // Two files' runs can report the same problem in a file both import: list it once.
    const seen = new Set<string>();
    const add = (file: string, diagnostic: vscode.Diagnostic) => {
      const key = `${file}:${diagnostic.range.start.line}:${diagnostic.range.start.character}:${diagnostic.message}`;
      if (seen.has(key)) return;
      seen.add(key);
      const list = byFile.get(file) ?? [];
      list.push(diagnostic);
      byFile.set(file, list);
    };
    for (const key of this.store.files()) {
      const entry = this.store.get(key);
      if (!entry) continue;
      if (entry.latest) for (const [file, d] of runDiagnostics(entry.latest)) add(file, d);
      for (const check of entry.checks.values()) {
        const d = checkDiagnostic(check);
        if (d) add(check.range.file, d);
        for (const [file, op] of opDiagnostics(check.ops ?? [])) add(file, op);
      }
    }
    this.collection.clear();
    for (const [file, list] of byFile) this.collection.set(vscode.Uri.file(file), list);
  }

  dispose(): void {
    this.subscription.dispose();
    this.collection.dispose();
  }
}

function runDiagnostics(result: RunResult): [string, vscode.Diagnostic][] {
  const out: [string, vscode.Diagnostic][] = [];
  const error = result.error;
  if (error && error.kind !== "cancelled") {
    // An error without a position (a timeout, a missing interpreter) still belongs to the file that ran.
    const position = error.position ?? { file: result.file, line: 1, column: 1 };
    out.push([position.file, diagnostic(position, error.message, vscode.DiagnosticSeverity.Error, error.kind)]);
  }
  for (const warning of result.warnings ?? []) {
    const at = warning.position ?? { file: result.file, line: 1, column: 1 };
    out.push([at.file, diagnostic(at, warning.message, vscode.DiagnosticSeverity.Warning, warning.kind)]);
  }
  out.push(...opDiagnostics(result.opChecks ?? []));
  const nonFinite = result.nonFinite;
  if (nonFinite?.position) {
    out.push([nonFinite.position.file, diagnostic(nonFinite.position, nonFinite.message, vscode.DiagnosticSeverity.Warning, "non-finite")]);
  }
  return out;
}

function checkDiagnostic(check: FunctionCheckResult): vscode.Diagnostic | undefined {
  // Underline the function's first line, not its whole body.
  const at: SourcePosition = { file: check.range.file, line: check.range.line, column: check.range.column };
  const message = mismatchSummary(check, editorWords);
  if (!message) return undefined;
  return diagnostic(at, message, vscode.DiagnosticSeverity.Warning, check.error ? "gradient-check" : "gradient-mismatch");
}

/** A failing op at its line: where it is defined when that is known (the fix goes there), else where it was made. */
function opDiagnostics(ops: readonly OpCheckResult[]): [string, vscode.Diagnostic][] {
  const out: [string, vscode.Diagnostic][] = [];
  for (const op of ops) {
    const at = op.definition ?? op.position;
    if (op.ok || !at) continue;
    out.push([at.file, diagnostic(at, opMessage(op, editorWords), vscode.DiagnosticSeverity.Warning, "wrong-local-gradient")]);
  }
  return out;
}

function diagnostic(at: SourcePosition | SourceRange, message: string, severity: vscode.DiagnosticSeverity, code: string): vscode.Diagnostic {
  const d = new vscode.Diagnostic(toRange(at), message, severity);
  d.source = "GradLens";
  d.code = code;
  return d;
}

/** A source range, or from a single position to the end of its line. */
export function toRange(at: SourcePosition | SourceRange): vscode.Range {
  const start = new vscode.Position(Math.max(0, at.line - 1), Math.max(0, at.column - 1));
  if ("endLine" in at) return new vscode.Range(start, new vscode.Position(Math.max(0, at.endLine - 1), Math.max(0, at.endColumn - 1)));
  return new vscode.Range(start, start.translate(0, 10_000));
}
