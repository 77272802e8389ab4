/**
 * Drives VS Code's web workbench in headless Chromium the way a person does: keys, clicks, the mouse.
 * scripts/e2e.mjs starts the servers and passes their URLs in the environment.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Frame, type Page } from "playwright-core";
import { chromiumArgs, chromiumPath } from "../../scripts/vscode-server.mjs";

export const vscodeVersion = process.env.GRADLENS_E2E_VSCODE ?? "unknown";

/** The URL of the server scripts/e2e.mjs started for `kind`. */
export function serverUrl(kind: "trusted" | "restricted" | "korean"): string {
  const url = process.env[{ trusted: "GRADLENS_E2E_TRUSTED_URL", restricted: "GRADLENS_E2E_RESTRICTED_URL", korean: "GRADLENS_E2E_KOREAN_URL" }[kind]];
  if (!url) throw new Error("run this suite with `npm run test:e2e` (scripts/e2e.mjs starts VS Code)");
  return url;
}

/** Where a graph element is drawn, in the webview frame's own coordinates. */
export interface FramePoint {
  x: number;
  y: number;
}

/** The graph view's test hook (src/webview/graphView.ts exposes the view as window.gradlensView). */
interface ViewHook {
  gradlensView?: {
    cy?: {
      nodes(selector?: string): { length: number; map<T>(fn: (n: NodeHandle) => T): T[] };
      getElementById(id: string): NodeHandle;
      container(): HTMLElement;
    };
  };
}
interface NodeHandle {
  id(): string;
  data(key: string): unknown;
  renderedPosition(): { x: number; y: number };
}

export class Workbench {
  private shotCount = 0;

  private constructor(
    readonly browser: Browser,
    readonly page: Page,
    private readonly prefix: string,
  ) {}

  /** Opens the workbench at `url` and waits until the explorer shows the workspace. */
  static async open(url: string, prefix: string, { trusted }: { trusted: boolean }): Promise<Workbench> {
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
    // The window the issue measures: 1600×1000, the graph beside the editor in the default split.
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(url);
    await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
    await page.waitForSelector(".explorer-folders-view .monaco-list-row", { timeout: 60_000 });
    const wb = new Workbench(browser, page, prefix);
    if (!trusted) await wb.declineTrustDialog();
    await wb.closeSecondarySideBar();
    return wb;
  }

  /** An untrusted folder may open with VS Code's "Do you trust the authors?" dialog: answer no, as a careful user would. */
  async declineTrustDialog(): Promise<void> {
    const decline = this.page.locator(".monaco-dialog-box .monaco-button", { hasText: /No, I don't trust/ });
    // The dialog comes up shortly after the workbench in some versions; give it a few seconds to appear.
    const shown = await decline.waitFor({ state: "visible", timeout: 5_000 }).then(() => true, () => false);
    if (shown) await decline.click();
  }

  /** Newer VS Code opens a Chat side bar on the right; close it with its own button, as a user would. */
  async closeSecondarySideBar(): Promise<void> {
    const bar = this.page.locator(".part.auxiliarybar");
    if (!(await bar.isVisible())) return;
    const close = bar.locator(".action-label.codicon-close, .action-label[aria-label*='Hide'], .action-label[aria-label*='Close']").last();
    if (await close.isVisible()) {
      await close.click();
      await bar.waitFor({ state: "hidden" });
    }
  }

  /** Drags the sash on the left edge of `frame`'s editor group by `dx` pixels (negative: to the left). */
  async dragSashLeftOf(frame: Frame, dx: number): Promise<void> {
    const edge = (await this.frameBox(frame)).x;
    const sashes = await this.page.locator(".monaco-sash.vertical").evaluateAll((elements) =>
      elements.map((e) => e.getBoundingClientRect()).filter((r) => r.height > 100).map((r) => ({ x: r.left + r.width / 2, y: r.top + r.height / 2 })),
    );
    const sash = sashes.sort((a, b) => Math.abs(a.x - edge) - Math.abs(b.x - edge))[0];
    if (!sash || Math.abs(sash.x - edge) > 20) throw new Error(`no sash next to the webview at x=${edge}`);
    await this.page.mouse.move(sash.x, sash.y);
    await this.page.mouse.down();
    await this.page.mouse.move(sash.x + dx / 2, sash.y, { steps: 5 });
    await this.page.mouse.move(sash.x + dx, sash.y, { steps: 5 });
    await this.page.mouse.up();
  }

  /** Hides or shows the Explorer side bar (Ctrl+B), to give the editor and the graph room. */
  async toggleSideBar(): Promise<void> {
    await this.focusEditor();
    await this.page.keyboard.press("Control+B");
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  /**
   * Saves a screenshot of the page (or of one element) to test-results/e2e/, numbered in step order;
   * with `docsName` and `npm run test:e2e -- --docs` also to docs/images/ for the README.
   */
  async shot(name: string, options: { docsName?: string; clip?: { x: number; y: number; width: number; height: number } } = {}): Promise<string> {
    const dir = process.env.GRADLENS_E2E_SHOTS ?? join("test-results", "e2e");
    mkdirSync(dir, { recursive: true });
    this.shotCount++;
    const file = join(dir, `${this.prefix}-${String(this.shotCount).padStart(2, "0")}-${name}.png`);
    await this.page.screenshot({ path: file, clip: options.clip });
    const docs = process.env.GRADLENS_E2E_DOCS;
    if (docs && options.docsName) {
      mkdirSync(docs, { recursive: true });
      copyFileSync(file, join(docs, options.docsName));
    }
    return file;
  }

  /**
   * Opens a top-level file of the workspace from the Explorer (a click, as a user does; Quick Open's
   * file search can take minutes to index on a busy machine); resolves when its editor is active.
   */
  async openFile(name: string): Promise<void> {
    const row = this.page.locator(".explorer-folders-view .monaco-list-row", { hasText: name }).first();
    if (!(await row.isVisible())) await this.page.keyboard.press("Control+Shift+E");
    await row.waitFor({ state: "visible" });
    await row.click();
    await this.page.locator(`.tabs-container .tab.active[data-resource-name="${name}"]`).first().waitFor({ state: "visible" });
    await this.page.locator(".editor-instance .monaco-editor .view-lines").first().waitFor({ state: "visible" });
  }

  /**
   * F1, type the command's title, wait for it in the list, Enter. A fresh or busy window's first
   * palette may not list the extension's titles yet (they arrive with its activation): then close the
   * palette and ask again, up to three times.
   */
  async runCommand(title: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.tryCommand(title, attempt === 3 ? 30_000 : 15_000);
        return;
      } catch (error) {
        if (attempt === 3) throw error;
        await this.page.keyboard.press("Escape");
        await this.page.waitForTimeout(2000);
      }
    }
  }

  private async tryCommand(title: string, timeout: number): Promise<void> {
    await this.focusEditor();
    await this.page.keyboard.press("F1");
    const input = this.page.locator(".quick-input-widget .quick-input-box input");
    await input.waitFor({ state: "visible", timeout });
    await this.page.keyboard.type(title);
    await this.page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first().waitFor({ state: "visible", timeout });
    await this.page.keyboard.press("Enter");
    await input.waitFor({ state: "hidden", timeout });
  }

  /** Clicks into the active text editor so keyboard shortcuts go to it. */
  async focusEditor(): Promise<void> {
    const lines = this.page.locator(".editor-instance .monaco-editor .view-lines").first();
    const box = await lines.boundingBox();
    if (box) await this.page.mouse.click(box.x + box.width - 20, box.y + 5);
  }

  /** The editor's cursor position as the status bar shows it ("Ln 16, Col 7"). */
  cursorStatus(): Promise<string> {
    return this.page.locator("#status\\.editor\\.selection").innerText();
  }

  /** Waits for a notification toast containing `text`; returns its message. */
  async notification(text: string): Promise<string> {
    const toast = this.page.locator(".notifications-toasts .notification-list-item-message", { hasText: text }).first();
    await toast.waitFor({ state: "visible", timeout: 30_000 });
    return toast.innerText();
  }

  /** The webview frame that holds the graph view, once it has drawn at least one node. */
  async graphFrame(timeout = 60_000): Promise<Frame> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      for (const frame of this.page.frames()) {
        if (!frame.url().includes("webview")) continue;
        const drawn = await frame.evaluate(() => ((window as unknown as ViewHook).gradlensView?.cy?.nodes().length ?? 0) > 0).catch(() => false);
        if (drawn) return frame;
      }
      await this.page.waitForTimeout(250);
    }
    throw new Error("no graph was drawn in a webview");
  }

  /** Every node of the drawn graph: id, label and classes (the webview's test hook). */
  graphNodes(frame: Frame): Promise<{ id: string; label: string }[]> {
    return frame.evaluate(() => {
      const cy = (window as unknown as ViewHook).gradlensView?.cy;
      return cy ? cy.nodes().map((n) => ({ id: n.id(), label: String(n.data("label") ?? "") })) : [];
    });
  }

  /** Waits until some node's label matches `pattern` (labels change as the animation steps). */
  async waitForNodeLabel(frame: Frame, pattern: RegExp): Promise<void> {
    await frame.waitForFunction(
      ([source, flags]) => {
        const re = new RegExp(source, flags);
        return (window as unknown as ViewHook).gradlensView?.cy?.nodes().map((n) => String(n.data("label") ?? "")).some((l) => re.test(l)) ?? false;
      },
      [pattern.source, pattern.flags] as const,
    );
  }

  /** Page coordinates of a graph node: its position inside the webview plus where the nested frames sit. */
  async nodeOnPage(frame: Frame, id: string): Promise<FramePoint> {
    const local = await frame.evaluate((nodeId) => {
      const cy = (window as unknown as ViewHook).gradlensView?.cy;
      if (!cy) throw new Error("no graph");
      const p = cy.getElementById(nodeId).renderedPosition();
      const box = cy.container().getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    }, id);
    return this.toPage(frame, local);
  }

  /** Adds where `frame` sits on the page (playwright measures even a nested iframe from the page's corner). */
  async toPage(frame: Frame, point: FramePoint): Promise<FramePoint> {
    const box = await this.frameBox(frame);
    return { x: box.x + point.x, y: box.y + point.y };
  }

  /** Where a frame's iframe element is on the page. */
  async frameBox(frame: Frame): Promise<{ x: number; y: number; width: number; height: number }> {
    const box = await (await frame.frameElement()).boundingBox();
    if (!box) throw new Error("the webview frame is not visible");
    return box;
  }

  /** Page coordinates of the middle of `token` on the first editor line containing `lineText`. */
  async tokenOnPage(lineText: string, token: string): Promise<FramePoint> {
    const line = this.page.locator(".editor-instance .view-lines .view-line", { hasText: lineText }).first();
    await line.waitFor({ state: "visible" });
    return line.evaluate((element, word) => {
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      const text: Text[] = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) text.push(n as Text);
      // Monaco splits a line into spans; find `word` as a whole word in one of them.
      for (const node of text) {
        const at = (node.textContent ?? "").search(new RegExp(`\\b${word}\\b`));
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + word.length);
        const r = range.getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      }
      throw new Error(`${word} not found in ${element.textContent}`);
    }, token);
  }
}
