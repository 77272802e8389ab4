/**
 * Loads the real training view bundle (dist/webviewTraining.js + .css) in headless Chromium on a
 * page with the production CSP, and a stand-in `acquireVsCodeApi` that records what the view posts.
 */
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import type { TrainingHostMessage, TrainingStrings, TrainingViewMessage } from "../../src/protocol/trainingMessages";
import { postToView } from "./postToView";

const root = resolve(__dirname, "../..");
const chromiumPath = process.env.GRADLENS_CHROMIUM ?? "/usr/bin/chromium";
const types: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".map": "application/json" };

function pageHtml(origin: string, theme: string): string {
  const nonce = "dGVzdC1ub25jZQ==";
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${origin}; img-src ${origin} data:; font-src ${origin}`;
  return `<!DOCTYPE html><html><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="${origin}/test/webview/vscode-theme.css">
<link rel="stylesheet" href="${origin}/dist/webviewTraining.css"></head>
<body class="${theme}"><div id="app"></div>
<script nonce="${nonce}">
  window.__posted = [];
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => undefined, setState: () => undefined });
</script>
<script nonce="${nonce}" src="${origin}/dist/webviewTraining.js"></script>
</body></html>`;
}

export const trainingTestStrings: TrainingStrings = {
  title: "Training", loss: "Loss", lossSmoothed: "Loss (smoothed)", gradNorm: "Gradient norm", gradNormAll: "all parameters",
  updateRatio: "Update ratio |Δp| / |p|", deadRelu: "Dead ReLU fraction", step: "step", stop: "Stop", running: "Training",
  stopping: "Stopping", finished: "Finished", stopped: "Stopped", failed: "Failed", progress: "{0} steps · {1} steps/s", stepsDone: "{0} steps",
  eta: "about {0} left", graphsKept: "Graphs kept for steps:", clickHint: "Click a step in a chart to open its graph.",
  nearestGraph: "No graph was kept for step {0}; showing step {1}.", nonFinite: "non-finite", waiting: "waiting …",
  thinned: "one step in {0} shown (of {1})",
  heatmapNote: "a row per group, the stronger the colour, the larger (log scale)",
  healthyRatio: "marked: 0.001, the usual ratio of a sane learning rate",
};

export class TrainingHarness {
  private server: Server | undefined;
  private browser: Browser | undefined;
  page!: Page;
  origin = "";
  errors: string[] = [];

  async start(): Promise<void> {
    if (!existsSync(resolve(root, "dist/webviewTraining.js"))) throw new Error("dist/webviewTraining.js is missing: run `node scripts/build.mjs --only=webview`");
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(pageHtml(this.origin, url.searchParams.get("theme") ?? "vscode-dark"));
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
    this.browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"], headless: true });
  }

  async open(viewport = { width: 600, height: 900 }, theme = "vscode-dark"): Promise<Page> {
    if (!this.browser) throw new Error("harness not started");
    await this.page?.context().close();
    const context = await this.browser.newContext({ viewport });
    this.page = await context.newPage();
    this.errors = [];
    this.page.on("pageerror", (e) => this.errors.push(String(e)));
    await this.page.goto(`${this.origin}/?theme=${theme}`);
    await this.page.waitForFunction(() => (window as unknown as { __posted: TrainingViewMessage[] }).__posted.some((m) => m.type === "ready"));
    return this.page;
  }

  /** Posts `message` as the host would; returns once the view has handled it. */
  async send(message: TrainingHostMessage): Promise<void> {
    await postToView(this.page, message);
  }

  posted(): Promise<TrainingViewMessage[]> {
    return this.page.evaluate(() => (window as unknown as { __posted: TrainingViewMessage[] }).__posted);
  }

  cspViolations(): Promise<string[]> {
    return this.page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  }

  /** The view's last "rendered" report. */
  async rendered(): Promise<{ steps: number; updates: number } | undefined> {
    const all = (await this.posted()).filter((m): m is Extract<TrainingViewMessage, { type: "rendered" }> => m.type === "rendered");
    return all[all.length - 1];
  }

  async stop(): Promise<void> {
    await this.browser?.close();
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}
