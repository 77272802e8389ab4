/**
 * GradLens's entry point. `activate()` only wires the parts together; each part lives in its own file.
 * The runners are imported on first use, so activation stays cheap (measured: see `GradLensApi.activationMs`).
 */
import * as vscode from "vscode";
import { createApi, type GradLensApi } from "./api";
import { CheckDetailsProvider, checkDetailsScheme } from "./checkDetails";
import { GradientCheckLensProvider, checkLensSelector } from "./codeLens";
import { registerCommands } from "./commands";
import { ResultDiagnostics } from "./diagnostics";
import { watchDocuments } from "./documentWatcher";
import { followCursorInGraph } from "./graphCursor";
import { followResultsInGraph, registerGraphPanelSerializer } from "./graphPanel";
import { ValueHoverProvider, runnableSelector } from "./hover";
import { InlineValueDecorations } from "./inlineValues";
import { ResultStore } from "./results";
import { RunService } from "./runService";
import { trackGradFileContext } from "./runTarget";
import { ResultStatusBar } from "./statusBar";
import { registerTrainingCommand } from "./trainingCommand";

export function activate(context: vscode.ExtensionContext): GradLensApi {
  const started = performance.now();
  // CPU time as well as wall time: on a busy machine the wall clock mostly measures waiting for a core.
  const cpuStarted = process.cpuUsage();
  const log = vscode.window.createOutputChannel("GradLens", { log: true });
  const store = new ResultStore();
  const runs = new RunService(log, store);
  const statusBar = new ResultStatusBar(runs, store);
  const inlineValues = new InlineValueDecorations(store);
  const lenses = new GradientCheckLensProvider(store);
  const details = new CheckDetailsProvider(store);

  context.subscriptions.push(
    log,
    store,
    runs,
    statusBar,
    inlineValues,
    lenses,
    details,
    new ResultDiagnostics(store),
    vscode.languages.registerCodeLensProvider(checkLensSelector, lenses),
    vscode.languages.registerHoverProvider(runnableSelector, new ValueHoverProvider(store)),
    vscode.workspace.registerTextDocumentContentProvider(checkDetailsScheme, details),
    registerCommands(context, runs, store, log),
    watchDocuments(store, runs),
    followCursorInGraph(),
    followResultsInGraph(context, store),
    registerTrainingCommand(context, store, log),
    trackGradFileContext(),
  );
  registerGraphPanelSerializer(context);

  const activationMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  const activationCpuMs = (cpu.user + cpu.system) / 1000;
  log.info(`GradLens activated in ${activationMs.toFixed(1)} ms (${activationCpuMs.toFixed(1)} ms CPU)`);
  return createApi({ activationMs, activationCpuMs }, { runs, store, inlineValues, statusBar });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
