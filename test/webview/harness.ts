/**
 * Loads the real webview bundle (dist/webview.js) and stylesheet in headless Chromium, on a page
 * with the production CSP and a stand-in `acquireVsCodeApi` that records what the view posts.
 */
import { createServer, type Server } from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { resolve, extname } from "node:path";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import type { GraphStrings, HostMessage, ViewMessage, ViewSettings, ViewState } from "../../src/protocol/messages";
import { toWireResult } from "../../src/protocol/messages";
import type { RunResult } from "../../src/protocol/result";
import { postToView } from "./postToView";

const root = resolve(__dirname, "../..");
export const chromiumPath = process.env.GRADLENS_CHROMIUM ?? "/usr/bin/chromium";
const chromiumFlags = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const types: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".map": "application/json", ".svg": "image/svg+xml" };

/** What graphHtml.ts has the page say until its first graph is in (its English text). */
export const loadingText = "Loading the graph…";

/** The page VS Code would build (see src/extension/graphHtml.ts), served from a local origin. */
function pageHtml(origin: string, theme: string): string {
  const nonce = "dGVzdC1ub25jZQ==";
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${origin}; img-src ${origin} data: blob:; font-src ${origin}; worker-src blob:`;
  return `<!DOCTYPE html><html><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="${origin}/test/webview/vscode-theme.css">
<link rel="stylesheet" href="${origin}/media/graph.css"></head>
<body class="${theme}"><div id="app" data-loading="${loadingText}"></div>
<script nonce="${nonce}">
  window.__posted = [];
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
  window.__state = JSON.parse(sessionStorage.getItem("state") || "null") || undefined;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => window.__state,
    setState: (s) => { window.__state = s; sessionStorage.setItem("state", JSON.stringify(s)); },
  });
</script>
<script nonce="${nonce}" src="${origin}/dist/webview.js"></script>
</body></html>`;
}

export class WebviewHarness {
  private server: Server | undefined;
  private browser: Browser | undefined;
  page!: Page;
  origin = "";
  theme = "vscode-dark";

  async start(): Promise<void> {
    if (!existsSync(resolve(root, "dist/webview.js"))) throw new Error("dist/webview.js is missing: run `node scripts/build.mjs --only=webview`");
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/" || url.pathname === "/index.html") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(pageHtml(this.origin, url.searchParams.get("theme") ?? this.theme));
        return;
      }
      const file = resolve(root, `.${url.pathname}`);
      if (!file.startsWith(root) || !existsSync(file)) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
      res.end(readFileSync(file));
    });
    await new Promise<void>((done) => this.server?.listen(0, "127.0.0.1", done));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags, headless: true });
  }

  /** A fresh page (a fresh webview); `keepState` reloads the same page as VS Code does after hide/show. */
  async open(theme = this.theme, viewport = { width: 1200, height: 800 }): Promise<Page> {
    if (!this.browser) throw new Error("harness not started");
    // One page at a time: an old page would keep drawing and slow the next one down.
    await this.page?.context().close();
    const context = await this.browser.newContext({ viewport });
    this.page = await context.newPage();
    this.page.on("pageerror", (e) => this.errors.push(String(e)));
    this.errors = [];
    await this.page.goto(`${this.origin}/?theme=${theme}`);
    await this.page.waitForFunction(() => (window as unknown as { __posted: ViewMessage[] }).__posted.some((m) => m.type === "ready"));
    return this.page;
  }

  errors: string[] = [];

  async reload(): Promise<void> {
    await this.page.reload();
    await this.page.waitForFunction(() => (window as unknown as { __posted: ViewMessage[] }).__posted.some((m) => m.type === "ready"));
  }

  /** Posts `message` as the host would; returns once the view has handled it. */
  async send(message: HostMessage): Promise<void> {
    await postToView(this.page, message);
  }

  /** Sends a graph and waits for the view's "rendered" report. */
  async show(result: RunResult, settings: Partial<ViewSettings> = {}, rootIndex = 0): Promise<Extract<ViewMessage, { type: "rendered" }>> {
    const before = (await this.posted()).filter((m) => m.type === "rendered").length;
    await this.send({
      type: "showGraph",
      result: toWireResult(result),
      rootIndex,
      strings: testStrings,
      settings: { groupThreshold: 1500, nodeLimit: 200_000, ...settings },
    });
    await this.page.waitForFunction(
      (n) => (window as unknown as { __posted: ViewMessage[] }).__posted.filter((m) => m.type === "rendered").length > n,
      before,
      { timeout: 60_000 },
    );
    const rendered = (await this.posted()).filter((m) => m.type === "rendered");
    return rendered[rendered.length - 1] as Extract<ViewMessage, { type: "rendered" }>;
  }

  posted(): Promise<ViewMessage[]> {
    return this.page.evaluate(() => (window as unknown as { __posted: ViewMessage[] }).__posted);
  }

  state(): Promise<ViewState | undefined> {
    return this.page.evaluate(() => (window as unknown as { __state?: ViewState }).__state);
  }

  /** Where a graph element is on the page (for real mouse events). */
  async pagePosition(id: string): Promise<{ x: number; y: number }> {
    return this.page.evaluate((elementId) => {
      const view = (window as unknown as { gradlensView: { cy: import("cytoscape").Core } }).gradlensView;
      const p = view.cy.getElementById(elementId).renderedPosition();
      const box = (view.cy.container() as HTMLElement).getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    }, id);
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}

/** English strings as the extension sends them (the tests check the view fills them in). */
export const testStrings: GraphStrings = {
  play: "Play", pause: "Pause", stepForward: "Step", stepBackward: "Step back", reset: "Reset", speed: "Speed",
  modeBackward: "Backward pass", modeForward: "Forward pass", fit: "Fit", zoomIn: "Zoom in", zoomOut: "Zoom out", zoomReset: "Zoom to 100%",
  more: "More actions", search: "Search", searchPlaceholder: "Search names, ops, code…", noMatch: "No match",
  exportPng: "PNG", exportSvg: "SVG", exportDot: "DOT", up: "Up one level", pathsToRoot: "Paths to the output",
  sidePanel: "Legend and trace", minimap: "Overview", instances: "instances", topLevel: "top level", legendTitle: "|grad| (log scale)",
  legendLeaf: "leaf", legendIntermediate: "intermediate", legendOutput: "output", legendNonFinite: "NaN or Infinity",
  legendOrigin: "first NaN or Infinity (origin)", legendGroup: "group (double-click to open)",
  nonFiniteTitle: "NaN / Infinity nodes", nonFiniteOrigin: "origin", stale: "The source changed after this run.", drawing: "Drawing {0}: {1} nodes…",
  data: "data", grad: "grad", op: "op", leaf: "leaf", localGrad: "local grad",
  source: "source", unknownSource: "made outside your file", root: "graph",
  tooLarge: "This graph has {0} nodes, more than the view's limit of {1}.", truncated: "The graph was cut.",
  grouped: "{0} nodes, grouped.", empty: "No computation graph yet.",
  forwardStep: "step {0} of {1}: {2} = {3}", backwardStart: "start: {0}.grad = 1", backwardDone: "backward pass done", forwardDone: "forward pass done",
  groupStep: "{0}: {1} grads pushed, sum {2}",
  groupSize: "{0} values", groupSizeAtLine: "{0} values · line {1}", callNumber: "{0} · call {1}", callCount: "{0} × {1} calls",
  partOf: "{0} · part {1} of {2}", constants: "constants", maxGrad: "largest |grad|", runningGrad: "grad so far",
  unknown: "unknown", unknownLocalGrad: "unknown: the engine computes it inside its backward function",
};
