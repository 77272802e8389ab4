/**
 * Runs user code for the editor: always in a child process of its own (the runner for the target's
 * language), never in the extension host. Adds what a run needs in VS Code: the trust gate, saving first, a cancellable
 * progress notification for slow runs, the log, and storing the result for the editor features.
 */
import * as vscode from "vscode";
import type { RunOptions } from "../runner/index";
import type { RunResult } from "../protocol/result";
import { fileKey, type ResultStore } from "./results";
import type { RunTarget } from "./runTarget";
import { runOptionsFromSettings } from "./settings";
import { errorKindLabel } from "./errorKinds";
import { pythonInterpreterFor } from "./pythonInterpreter";
import { loadPythonRunner, runnerFor } from "./runners";
import { emptyResult } from "../protocol/emptyResult";

export interface RunRequest {
  target: RunTarget;
  /** "run" traces the code; "check" compares backprop with numerical gradients. */
  mode: "run" | "check";
  /** Check only this function (a CodeLens click). */
  functionName?: string;
  /** A "run" that also checks the local gradient of every op the run used ("Check ops"). */
  opsOnly?: boolean;
  /** "notification": a cancellable notification when the run takes over a second; "background": the status bar only (run on save). */
  feedback: "notification" | "background";
}

/** How long a run may take before it gets a progress notification. */
const quietRunMs = 1000;

export class RunService implements vscode.Disposable {
  private started = 0;
  private readonly running = new Map<string, AbortController>();
  private readonly finished = new vscode.EventEmitter<RunResult>();
  /** Fires after every run, including failed and cancelled ones. */
  readonly onDidFinishRun = this.finished.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly store: ResultStore,
  ) {}

  /** How many runs of user code have started since activation. */
  get runCount(): number {
    return this.started;
  }

  /** Runs the target; undefined when nothing ran (Restricted Mode — callers explain why). */
  async run(request: RunRequest): Promise<RunResult | undefined> {
    // The commands explain Restricted Mode to the user; this is the last line of defence.
    if (!vscode.workspace.isTrusted) return undefined;
    const { target } = request;
    // A new run of a file replaces the one still going (saving twice quickly, clicking twice).
    const key = `${request.mode}:${fileKey(target.file)}`;
    this.running.get(key)?.abort();
    const controller = new AbortController();
    this.running.set(key, controller);
    this.started++;
    const title = describe(request);
    this.log.info(`${title} …`);
    let result: RunResult;
    try {
      // Runners read the file from disk. Registered as running first, so run-on-save skips this save.
      if (target.kind === "file" && target.document.isDirty) await target.document.save();
      const pending = this.invoke(request, controller.signal).catch((error: unknown) => internalFailure(target, error));
      result = await this.withFeedback(pending, controller, request.feedback, title);
    } finally {
      if (this.running.get(key) === controller) this.running.delete(key);
    }
    this.writeLog(title, result);
    if (result.error?.kind !== "cancelled") {
      if (request.mode === "check") this.store.setChecks(result, request.functionName);
      else this.store.setRun(result);
    }
    this.finished.fire(result);
    return result;
  }

  isRunning(file: string): boolean {
    return this.running.has(`run:${fileKey(file)}`) || this.running.has(`check:${fileKey(file)}`);
  }

  /** Cancels every run in progress. */
  cancelAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  dispose(): void {
    this.cancelAll();
    this.finished.dispose();
  }

  private async invoke(request: RunRequest, signal: AbortSignal): Promise<RunResult> {
    const { target } = request;
    const options: RunOptions = { ...runOptionsFromSettings(target.document.uri), signal };
    if (target.language === "python") {
      const pythonPath = await pythonInterpreterFor(target.document.uri);
      if (pythonPath) options.pythonPath = pythonPath;
      // A Markdown block's functions: the block runs (after the blocks it needs), then their checks.
      if (request.mode === "check" && target.kind === "snippet") {
        const input = { file: target.file, code: target.code, origin: target.origin, document: target.document.getText() };
        return loadPythonRunner().checkPython(input, { ...options, functionName: request.functionName });
      }
    }
    const runner = runnerFor(target.language);
    if (request.opsOnly) {
      // A selection or a Markdown block: it runs as "Run" runs it (after the blocks it needs), then its ops are checked.
      return target.kind === "file"
        ? runner.checkFile(target.file, { ...options, opsOnly: true })
        : runner.runSnippet(target.code, target.origin, { ...options, document: target.document.getText(), opChecks: true });
    }
    if (request.mode === "check") return runner.checkFile(target.file, { ...options, functionName: request.functionName });
    // The editor's text, so a Markdown block can build on the code blocks above it.
    return target.kind === "file" ? runner.runFile(target.file, options) : runner.runSnippet(target.code, target.origin, { ...options, document: target.document.getText() });
  }

  private withFeedback(pending: Promise<RunResult>, controller: AbortController, feedback: RunRequest["feedback"], title: string): Promise<RunResult> {
    if (feedback === "background") {
      return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, () => pending));
    }
    // Fast runs finish without a notification flashing by; slow ones get one with a Cancel button.
    const timer = setTimeout(() => {
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (_progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        return pending;
      });
    }, quietRunMs);
    return pending.finally(() => clearTimeout(timer));
  }

  private writeLog(title: string, result: RunResult): void {
    for (const line of result.console) {
      const where = line.position ? ` (${vscode.workspace.asRelativePath(line.position.file)}:${line.position.line})` : "";
      if (line.stream === "stderr") this.log.warn(`${line.text}${where}`);
      else this.log.info(`${line.text}${where}`);
    }
    if (result.error) {
      const where = result.error.position ? `${vscode.workspace.asRelativePath(result.error.position.file)}:${result.error.position.line}` : "";
      this.log.error(
        where
          ? vscode.l10n.t("{0}: {1} error at {2}: {3}", title, errorKindLabel(result.error.kind), where, result.error.message)
          : vscode.l10n.t("{0}: {1} error: {2}", title, errorKindLabel(result.error.kind), result.error.message),
      );
      if (result.error.stack) this.log.error(result.error.stack);
    }
    if (result.nonFinite) this.log.warn(result.nonFinite.message);
    for (const check of result.checks ?? []) {
      this.log.info(
        check.ok
          ? vscode.l10n.t("gradient check of {0}: ok (max rel err {1})", check.name, check.maxRelError)
          : vscode.l10n.t("gradient check of {0}: mismatch (max rel err {1})", check.name, check.maxRelError),
      );
    }
    this.log.info(vscode.l10n.t("{0}: {1} graph(s), {2} nodes, {3} ms", title, result.roots.length, result.stats.nodeCount, Math.round(result.stats.durationMs)));
  }
}

function describe(request: RunRequest): string {
  const name = vscode.workspace.asRelativePath(request.target.file);
  if (request.mode === "check") {
    return request.functionName
      ? vscode.l10n.t("Checking the gradient of {0} in {1}", request.functionName, name)
      : vscode.l10n.t("Checking gradients in {0}", name);
  }
  return request.target.kind === "snippet"
    ? vscode.l10n.t("Running the selection in {0}", name)
    : vscode.l10n.t("Running {0}", name);
}

/** A failure of GradLens itself still becomes a result the user sees, not an exception. */
function internalFailure(target: RunTarget, error: unknown): RunResult {
  return emptyResult(target.language, target.file, { kind: "internal", message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined }, 0);
}
