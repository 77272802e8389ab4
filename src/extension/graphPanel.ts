/**
 * The host side of the graph view: one webview panel beside the editor, fed with the last
 * run's graphs through the typed protocol in `src/protocol/messages.ts`.
 *
 * The panel is not kept alive while hidden (no `retainContextWhenHidden`): the webview keeps
 * its view state with `setState`, and the host re-sends the graph when the view says "ready".
 * Graphs cross as typed arrays (see messages.ts); the last one is written to extension storage,
 * lazily and as binary (graphStore.ts), so a window reload can restore it.
 * The panel follows the results of the file it shows: an edit marks it stale, the next run refreshes it.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import type { RunResult } from "../protocol/result";
import { readViewMessage, toWireResult } from "../protocol/messages";
import type { HostMessage, RenderedReport, ViewMessage, WireResult } from "../protocol/messages";
import { graphStrings } from "./graphStrings";
import { graphHtml } from "./graphHtml";
import { saveExport } from "./graphExport";
import { decodeGraphs, encodeGraphs } from "./graphStore";
import { fileKey, type ResultStore } from "./results";

const viewType = "gradlens.graph";
const storedGraphFile = "lastGraph.bin";
/** The stored copy is written this long after the last graph was shown (a training loop shows many). */
const storeDelayMs = 3000;
/**
 * Above this many nodes in one graph the view shows a message instead of the graph: grouping
 * keeps the picture small, but decoding and grouping still scale with the node count.
 */
const viewNodeLimit = 500_000;

export type RenderedInfo = RenderedReport;

export class GraphPanel {
  static current: GraphPanel | undefined;

  private result: WireResult | undefined;
  /** The run the panel shows (to tell a new run of the same file from the one on screen). */
  private run: RunResult | undefined;
  private stale = false;
  private rootIndex = 0;
  /** False while it shows a graph the user picked that is not a run's latest (a training step): runs of the file then only mark it stale. */
  private followsRuns = true;
  private ready = false;
  private readonly pending: HostMessage[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private lastRendered: RenderedInfo | undefined;
  private readonly renderWaiters: ((info: RenderedInfo) => void)[] = [];

  /**
   * Opens the panel (or reuses it) and shows the graphs of `result`. `bringToFront` false updates an
   * open panel where it is: a panel that follows runs must not cover the tab the user is looking at
   * (the training view of the run that just ended, say). `followsRuns` false: the graph is one the
   * user picked (a training step) and stays until they ask for another; a later run of its file
   * only marks it stale.
   */
  static show(context: vscode.ExtensionContext, result: RunResult, rootIndex = result.roots.length - 1, bringToFront = true, followsRuns = true): GraphPanel {
    const wire = toWireResult(result);
    const existing = GraphPanel.current;
    // The panel follows runs already (followResultsInGraph): the same run twice is shown once.
    if (existing && existing.run === result && rootIndex === existing.rootIndex) {
      if (bringToFront) existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel =
      existing ??
      new GraphPanel(
        context,
        vscode.window.createWebviewPanel(viewType, vscode.l10n.t("Computation Graph"), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, webviewOptions(context)),
      );
    panel.run = result;
    panel.followsRuns = followsRuns;
    panel.setResult(wire, Math.max(0, rootIndex));
    storeResultSoon(context, wire);
    // An open panel stays in its column; a new one was created beside the editor.
    if (existing && bringToFront) existing.panel.reveal(undefined, true);
    return panel;
  }

  private constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly panel: vscode.WebviewPanel,
  ) {
    GraphPanel.current = this;
    panel.webview.options = webviewOptions(context);
    panel.webview.html = graphHtml(panel.webview, context.extensionUri);
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, "media", "graph.svg");
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    // A hidden webview is destroyed; when it comes back it says "ready" again.
    panel.onDidChangeViewState(() => {
      if (!panel.visible) this.ready = false;
    }, null, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => {
      const message = readViewMessage(m);
      if (message) this.onMessage(message);
    }, null, this.disposables);
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("gradlens.graph")) this.sendGraph();
    }, null, this.disposables);
  }

  /** Restores a panel after a window reload from the graph kept in extension storage. */
  static async revive(context: vscode.ExtensionContext, webviewPanel: vscode.WebviewPanel, rootIndex: number): Promise<GraphPanel> {
    GraphPanel.current?.dispose();
    const panel = new GraphPanel(context, webviewPanel);
    const stored = await loadResult(context);
    if (stored) panel.setResult(stored, Math.min(rootIndex, Math.max(0, stored.roots.length - 1)));
    return panel;
  }

  get showing(): RunResult | undefined {
    return this.run;
  }

  /** Whether a new run of the shown file replaces the graph (see `show`). */
  get follows(): boolean {
    return this.followsRuns;
  }

  /** Whether the panel shows a graph of this file. */
  shows(file: string): boolean {
    return this.result !== undefined && fileKey(this.result.file) === fileKey(file);
  }

  /** The file was edited after its run (true), or a run showed it as it is (false). */
  setStale(stale: boolean): void {
    if (stale === this.stale) return;
    this.stale = stale;
    this.post({ type: "stale", stale });
  }

  revealNode(rootIndex: number, nodeId: number): void {
    if (rootIndex !== this.rootIndex) {
      this.rootIndex = rootIndex;
      this.sendGraph();
    }
    this.post({ type: "revealNode", rootIndex, nodeId });
    this.panel.reveal(undefined, true);
  }

  /** Nodes made on that source line light up (line is 1-based; 0 clears). */
  highlightLine(file: string, line: number): void {
    if (this.ready) this.post({ type: "highlightLine", file, line });
  }

  /** Test hook: resolves with the next "rendered" report, or the last one if a render already happened. */
  waitForRender(timeoutMs: number, fresh = false): Promise<RenderedInfo | undefined> {
    if (this.lastRendered && !fresh) return Promise.resolve(this.lastRendered);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.renderWaiters.push((info) => {
        clearTimeout(timer);
        resolve(info);
      });
    });
  }

  dispose(): void {
    if (GraphPanel.current === this) GraphPanel.current = undefined;
    this.panel.dispose();
    while (this.disposables.length > 0) this.disposables.pop()?.dispose();
  }

  private setResult(result: WireResult, rootIndex: number): void {
    this.result = result;
    this.rootIndex = rootIndex;
    this.lastRendered = undefined;
    this.stale = false;
    this.updateTitle();
    this.sendGraph();
  }

  /** "mlp.grad.ts: loss" — two files' graphs are told apart by their tabs. */
  private updateTitle(): void {
    const result = this.result;
    if (!result || result.roots.length === 0) {
      this.panel.title = vscode.l10n.t("Computation Graph");
      return;
    }
    const root = result.roots[Math.min(this.rootIndex, result.roots.length - 1)];
    this.panel.title = vscode.l10n.t("Graph: {0} — {1}", path.basename(result.file), root.name);
  }

  private sendGraph(): void {
    if (!this.result) {
      this.post({ type: "noGraph", message: graphStrings().empty });
      return;
    }
    const config = vscode.workspace.getConfiguration("gradlens.graph");
    this.post({
      type: "showGraph",
      result: this.result,
      rootIndex: this.rootIndex,
      strings: graphStrings(),
      settings: {
        groupThreshold: config.get<number>("groupThreshold", 1500),
        nodeLimit: viewNodeLimit,
      },
    });
  }

  private post(message: HostMessage): void {
    if (!this.ready) {
      // Only the latest graph matters; other messages wait for it.
      if (message.type === "showGraph" || message.type === "noGraph") {
        for (let i = this.pending.length - 1; i >= 0; i--) {
          if (this.pending[i].type === "showGraph" || this.pending[i].type === "noGraph") this.pending.splice(i, 1);
        }
      }
      this.pending.push(message);
      return;
    }
    void this.panel.webview.postMessage(message);
  }

  private onMessage(message: ViewMessage): void {
    switch (message.type) {
      case "ready":
      {
        this.ready = true;
        const waiting = this.pending.filter((m) => m.type !== "showGraph" && m.type !== "noGraph" && m.type !== "stale");
        this.pending.length = 0;
        this.sendGraph();
        if (this.stale) this.post({ type: "stale", stale: true });
        for (const m of waiting) this.post(m);
      }
        break;
      case "revealSource":
        void revealSource(message.file, message.line, message.column);
        break;
      case "exportFile":
        void saveExport(message.format, message.data, this.result?.file);
        break;
      case "state":
        if (this.result && message.state.rootIndex >= 0 && message.state.rootIndex < this.result.roots.length) {
          this.rootIndex = message.state.rootIndex;
          this.updateTitle();
        }
        break;
      case "error":
        void vscode.window.showErrorMessage(vscode.l10n.t("Graph view: {0}", message.message));
        break;
      case "rendered":
        this.lastRendered = message;
        for (const waiter of this.renderWaiters.splice(0)) waiter(message);
        break;
    }
  }
}

/** Window reload restores the panel; also registers the test hook command. */
export function registerGraphPanelSerializer(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(viewType, {
      async deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, state: unknown) {
        const rootIndex = typeof state === "object" && state !== null && typeof (state as { rootIndex?: unknown }).rootIndex === "number"
          ? (state as { rootIndex: number }).rootIndex
          : 0;
        await GraphPanel.revive(context, webviewPanel, rootIndex);
      },
    }),
    // Not contributed in package.json: used by the integration tests to wait for the view.
    vscode.commands.registerCommand("gradlens.graph.waitForRender", (timeoutMs = 20000, fresh = false) =>
      GraphPanel.current?.waitForRender(timeoutMs, fresh),
    ),
    { dispose: () => GraphPanel.current?.dispose() },
  );
}

function webviewOptions(context: vscode.ExtensionContext): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, "dist"), vscode.Uri.joinPath(context.extensionUri, "media")],
  };
}

async function revealSource(file: string, line: number, column: number): Promise<void> {
  const uri = vscode.Uri.file(file);
  const position = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
  try {
    await vscode.window.showTextDocument(uri, {
      viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
      selection: new vscode.Range(position, position),
      preserveFocus: false,
    });
  } catch (error) {
    void vscode.window.showErrorMessage(vscode.l10n.t("Cannot open {0}: {1}", file, String(error)));
  }
}

let storeTimer: ReturnType<typeof setTimeout> | undefined;

/** Keeps the last graph for a window reload, once the runs have paused for a moment. */
function storeResultSoon(context: vscode.ExtensionContext, result: WireResult): void {
  if (storeTimer) clearTimeout(storeTimer);
  storeTimer = setTimeout(() => {
    storeTimer = undefined;
    void storeResult(context, result);
  }, storeDelayMs);
}

async function storeResult(context: vscode.ExtensionContext, result: WireResult): Promise<void> {
  try {
    await vscode.workspace.fs.createDirectory(context.globalStorageUri);
    const uri = vscode.Uri.joinPath(context.globalStorageUri, storedGraphFile);
    await vscode.workspace.fs.writeFile(uri, encodeGraphs(result));
  } catch {
    // Only reload-restore depends on it; the open panel keeps working.
  }
}

async function loadResult(context: vscode.ExtensionContext): Promise<WireResult | undefined> {
  try {
    const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(context.globalStorageUri, storedGraphFile));
    return decodeGraphs(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The open panel follows its file's results: an edit marks the graph stale, a new run of the file
 * (run on save, Run File) replaces it.
 */
export function followResultsInGraph(context: vscode.ExtensionContext, store: ResultStore): vscode.Disposable {
  return store.onDidChange((file) => {
    const panel = GraphPanel.current;
    if (!panel || file === undefined || !panel.shows(file)) return;
    const entry = store.get(file);
    if (!entry?.run) return;
    if (entry.stale) panel.setStale(true);
    // A training step the user opened (while the run went, say) is not swapped for the run's end.
    else if (!panel.follows) return;
    else if (entry.run.roots.length > 0 && panel.showing !== entry.run) GraphPanel.show(context, entry.run, undefined, false);
    else panel.setStale(false);
  });
}
