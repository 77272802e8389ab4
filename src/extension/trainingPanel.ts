/**
 * The training view's host side: its own webview panel beside the editor (viewType
 * gradlens.training), fed with step records as they stream in — coalesced to one message per
 * ~150 ms, so a fast loop cannot flood the view — plus Stop, and "open this step's graph".
 * Closing the panel ends the run.
 */
import * as vscode from "vscode";
import { webviewHtml } from "./webviewHtml";
import { StepLog } from "../protocol/stepLog";
import type { TrainingProgress, TrainingResult } from "../protocol/training";
import { parseViewMessage, type TrainingHostMessage, type TrainingStatus } from "../protocol/trainingMessages";
import { trainingStrings } from "./trainingStrings";

const viewType = "gradlens.training";
const SEND_EVERY_MS = 150;

export interface TrainingPanelEvents {
  onStop(): void;
  onOpenStep(step: number): void;
  onClosed(): void;
}

export class TrainingPanel {
  static current: TrainingPanel | undefined;

  private ready = false;
  private steps = new StepLog();
  private totalSteps: number | undefined;
  private groups: string[] = [];
  private graphSteps: number[] = [];
  private status: TrainingStatus = "running";
  private message: string | undefined;
  private pending: TrainingProgress = { steps: [], newGroups: [] };
  private sendTimer: NodeJS.Timeout | undefined;
  private started = Date.now();
  private events: TrainingPanelEvents | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Test hook: what the view last reported drawing. */
  lastRendered: { steps: number; updates: number } | undefined;

  static open(context: vscode.ExtensionContext, file: string, events: TrainingPanelEvents): TrainingPanel {
    const panel = TrainingPanel.current ?? new TrainingPanel(context);
    panel.reset(file, events);
    panel.panel.reveal(undefined, true);
    return panel;
  }

  private file = "";
  private readonly panel: vscode.WebviewPanel;

  private constructor(context: vscode.ExtensionContext) {
    TrainingPanel.current = this;
    this.panel = vscode.window.createWebviewPanel(viewType, vscode.l10n.t("Training"), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, "dist")],
    });
    this.panel.iconPath = vscode.Uri.joinPath(context.extensionUri, "media", "graph.svg");
    this.panel.webview.html = trainingHtml(this.panel.webview, context.extensionUri);
    this.panel.onDidDispose(() => this.dispose(), null, this.disposables);
    this.panel.onDidChangeViewState(() => {
      if (!this.panel.visible) this.ready = false;
    }, null, this.disposables);
    this.panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m), null, this.disposables);
  }

  private reset(file: string, events: TrainingPanelEvents): void {
    this.file = file;
    this.events = events;
    this.steps = new StepLog();
    this.totalSteps = undefined;
    this.groups = [];
    this.graphSteps = [];
    this.status = "running";
    this.message = undefined;
    this.pending = { steps: [], newGroups: [] };
    this.started = Date.now();
    this.panel.title = vscode.l10n.t("Training: {0}", vscode.workspace.asRelativePath(file));
    this.sendInit();
  }

  /** Step records as they arrive; sent on in batches. */
  addProgress(progress: TrainingProgress): void {
    this.steps.addBatch(progress.steps, progress.stride, progress.final);
    if (progress.final) this.pending.final = true;
    if (progress.totalSteps !== undefined) this.totalSteps = progress.totalSteps;
    if (progress.graphSteps) this.graphSteps = progress.graphSteps.slice();
    this.groups.push(...progress.newGroups);
    this.pending.steps.push(...progress.steps);
    this.pending.newGroups.push(...progress.newGroups);
    this.sendTimer ??= setTimeout(() => this.flush(), SEND_EVERY_MS);
  }

  setStatus(status: TrainingStatus, graphSteps: number[] = this.graphSteps, message?: string, final?: TrainingResult): void {
    this.flush();
    this.status = status;
    this.graphSteps = graphSteps;
    this.message = message;
    const allSteps = final?.steps;
    if (allSteps && (allSteps.length !== this.steps.length || allSteps.at(-1)?.step !== this.steps.lastStepNumber)) {
      // The final result completed the last step (and may hold ones a hard stop cut off the stream).
      this.steps.reset(allSteps, final?.thinned?.every);
      this.sendInit();
      return;
    }
    this.post({ type: "status", status, graphSteps, ...(message ? { message } : {}) });
  }

  get isRunning(): boolean {
    return this.status === "running" || this.status === "stopping";
  }

  dispose(): void {
    if (TrainingPanel.current === this) TrainingPanel.current = undefined;
    clearTimeout(this.sendTimer);
    const events = this.events;
    this.events = undefined;
    events?.onClosed();
    this.panel.dispose();
    while (this.disposables.length > 0) this.disposables.pop()?.dispose();
  }

  private flush(): void {
    clearTimeout(this.sendTimer);
    this.sendTimer = undefined;
    if (this.pending.steps.length === 0 && this.pending.newGroups.length === 0) return;
    const { steps, newGroups, final } = this.pending;
    this.pending = { steps: [], newGroups: [] };
    this.post({ type: "progress", steps, newGroups, elapsedMs: Date.now() - this.started, ...this.extras(), ...(final ? { final } : {}) });
  }

  /** The stride, loop bound and kept graphs as they stand (each message carries them). */
  private extras(): { stride?: number; totalSteps?: number; graphSteps: number[] } {
    return { ...(this.steps.stride > 1 ? { stride: this.steps.stride } : {}), ...(this.totalSteps !== undefined ? { totalSteps: this.totalSteps } : {}), graphSteps: this.graphSteps };
  }

  private sendInit(): void {
    this.pending = { steps: [], newGroups: [] };
    this.post({
      type: "init",
      strings: trainingStrings(),
      file: vscode.workspace.asRelativePath(this.file),
      groups: this.groups,
      steps: this.steps.records,
      status: this.status,
      elapsedMs: Date.now() - this.started,
      ...this.extras(),
      ...(this.message ? { message: this.message } : {}),
    });
  }

  private post(message: TrainingHostMessage): void {
    // A view that is not ready gets everything with "init" when it says "ready".
    if (this.ready) void this.panel.webview.postMessage(message);
  }

  private onMessage(raw: unknown): void {
    const message = parseViewMessage(raw);
    if (!message) return;
    switch (message.type) {
      case "ready":
        this.ready = true;
        this.sendInit();
        break;
      case "stop":
        if (this.status === "running") {
          this.status = "stopping";
          this.post({ type: "status", status: "stopping", graphSteps: this.graphSteps });
          this.events?.onStop();
        }
        break;
      case "openStep":
        this.events?.onOpenStep(message.step);
        break;
      case "rendered":
        this.lastRendered = { steps: message.steps, updates: message.updates };
        break;
      case "error":
        void vscode.window.showErrorMessage(vscode.l10n.t("Training view: {0}", message.message));
        break;
    }
  }
}

/** The view's HTML; uPlot sets sizes through the CSSOM, which the CSP allows. */
function trainingHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return webviewHtml(webview, {
    script: vscode.Uri.joinPath(extensionUri, "dist", "webviewTraining.js"),
    style: vscode.Uri.joinPath(extensionUri, "dist", "webviewTraining.css"),
  });
}
