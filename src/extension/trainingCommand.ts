/**
 * "GradLens: Train (Run with Training View)": runs the active file as a training loop without the
 * short on-save time limit (gradlens.training.timeLimitSeconds, default an hour), streams every
 * step into the training panel, Stop keeps the steps recorded so far, closing the panel ends the
 * run, and a click on a kept step opens that step's graph in the graph panel.
 */
import * as vscode from "vscode";
import type { RunResult } from "../protocol/result";
import { emptyResult } from "../protocol/emptyResult";
import type { TrainingResult } from "../protocol/training";
import { DEFAULT_TRAINING_TIME_LIMIT_MS, TrainingControl } from "../runner/training/control";
import { GraphPanel } from "./graphPanel";
import { pythonInterpreterFor } from "./pythonInterpreter";
import type { ResultStore } from "./results";
import { loadPythonRunner, loadRunner } from "./runners";
import { runOptionsFromSettings } from "./settings";
import { TrainingPanel } from "./trainingPanel";
import { ensureTrusted } from "./trust";
import { stepRoot } from "../protocol/stepRoot";

const trainable = /\.(grad\.)?([cm]?[jt]sx?|py)$/i;

/** What the last training run left, for opening its graphs and for tests. */
interface TrainingSession {
  file: string;
  control: TrainingControl;
  result?: RunResult;
  training?: TrainingResult;
}

export function registerTrainingCommand(context: vscode.ExtensionContext, store: ResultStore, log: vscode.LogOutputChannel): vscode.Disposable {
  let session: TrainingSession | undefined;

  /** A kept step's graph in the graph panel: from the finished run, or while it runs from the graphs streamed so far. */
  const openStep = (step: number): void => {
    if (!session) return;
    const graphs = session.training?.graphs ?? session.control.graphs;
    const kept = graphs.find((g) => g.step === step);
    if (!kept) return;
    const result = session.result ?? { ...emptyResult(/\.py$/i.test(session.file) ? "python" : "typescript", session.file, undefined, 0), sites: session.control.sites };
    const root = stepRoot(kept, vscode.l10n.t("{0} · step {1}", kept.root.name, step));
    // The step stays in the panel when the run ends (or the file runs again), until another graph is asked for.
    GraphPanel.show(context, { ...result, roots: [root], bindings: [], nonFinite: undefined }, 0, true, false);
  };

  const train = async (resource?: vscode.Uri): Promise<RunResult | undefined> => {
    const uri = resource instanceof vscode.Uri ? resource : vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== "file" || !trainable.test(uri.fsPath)) {
      void vscode.window.showInformationMessage(vscode.l10n.t("Open a .grad.ts, JavaScript or Python file with a training loop to train it."));
      return undefined;
    }
    if (!ensureTrusted()) return undefined;
    const document = await vscode.workspace.openTextDocument(uri);
    if (document.isDirty) await document.save();
    session?.control.cancel();
    const file = uri.fsPath;
    const control = new TrainingControl((progress) => panel.addProgress(progress));
    const current: TrainingSession = { file, control };
    session = current;
    const panel = TrainingPanel.open(context, file, {
      onStop: () => control.stop(),
      onOpenStep: (step) => openStep(step),
      onClosed: () => control.cancel(),
    });
    const limitSeconds = vscode.workspace.getConfiguration("gradlens", uri).get<number>("training.timeLimitSeconds", DEFAULT_TRAINING_TIME_LIMIT_MS / 1000);
    const options = { ...runOptionsFromSettings(uri), ...control.runOptions(Math.max(1, limitSeconds) * 1000) };
    log.info(vscode.l10n.t("Training {0} …", vscode.workspace.asRelativePath(file)));
    let result: RunResult;
    try {
      result = /\.py$/i.test(file)
        ? await loadPythonRunner().runPython({ file }, { ...options, ...(await pythonPathFor(uri)) })
        : await loadRunner().runFile(file, options);
    } catch (error) {
      result = { ok: false, language: "typescript", file, roots: [], sites: [], bindings: [], console: [], error: { kind: "internal", message: String(error) }, stats: { durationMs: 0, nodeCount: 0 } };
    }
    const training = control.finish(result);
    current.result = result;
    current.training = training;
    for (const line of result.console) (line.stream === "stderr" ? log.warn : log.info).call(log, line.text);
    if (result.error?.kind !== "cancelled") store.setRun(result);
    const graphSteps = training.graphs.map((g) => g.step);
    const error = result.error && result.error.kind !== "cancelled" ? result.error.message : undefined;
    const status = error ? "failed" : control.stopped || training.stoppedAfter !== undefined ? "stopped" : "finished";
    if (session === current && TrainingPanel.current === panel) panel.setStatus(status, graphSteps, error, training);
    log.info(vscode.l10n.t("Training {0}: {1} steps, graphs kept for steps {2}", vscode.workspace.asRelativePath(file), training.steps.length, graphSteps.join(", ") || "–"));
    return result;
  };

  return vscode.Disposable.from(
    vscode.commands.registerCommand("gradlens.train", train),
    vscode.commands.registerCommand("gradlens.stopTraining", () => session?.control.stop()),
    // Not contributed in package.json: lets the integration and e2e tests see what the view drew.
    vscode.commands.registerCommand("gradlens.training.state", () => ({
      steps: session?.control.steps.length ?? 0,
      rendered: TrainingPanel.current?.lastRendered,
      graphSteps: (session?.training?.graphs ?? session?.control.graphs ?? []).map((g) => g.step),
      finished: session?.result !== undefined,
    })),
    vscode.commands.registerCommand("gradlens.training.openStep", (step: number) => openStep(step)),
    { dispose: () => session?.control.cancel() },
  );
}

async function pythonPathFor(uri: vscode.Uri): Promise<{ pythonPath?: string }> {
  const pythonPath = await pythonInterpreterFor(uri);
  return pythonPath ? { pythonPath } : {};
}
