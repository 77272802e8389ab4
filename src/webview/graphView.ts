/**
 * The graph view's controller: takes the host's messages and wires the parts, each with one job —
 * the shown graph (shown), the level on screen (stage, canvas), moving between levels
 * (levelBrowser, navigation), stepping (playback), search (searchBox), marks (screenMarks), the
 * hover card and clicks (inspect), the side panel, the toolbar and keys (actions), the banners,
 * the saved state (viewState), and the report to the host (renderedReport).
 */
import type { GraphStrings, HostMessage, ViewSettings, WireResult } from "../protocol/messages";
import { Canvas, type Viewport } from "./canvas";
import { viewActions } from "./actions";
import { Banners } from "./banners";
import { fillRootPicker, mountControls, type Controls } from "./controls";
import { el } from "./dom";
import { fillIn } from "./format";
import type { GraphModel } from "./graphModel";
import { Hierarchy } from "./hierarchy";
import { Inspector } from "./inspect";
import { bindKeys } from "./keys";
import { layoutUsesWorker } from "./layout";
import { LevelBrowser } from "./levelBrowser";
import type { Level } from "./level";
import { Navigation } from "./navigation";
import { Playback } from "./playback";
import { RenderReporter } from "./renderedReport";
import { ScreenMarks } from "./screenMarks";
import { SearchBox } from "./searchBox";
import { noticeOf, showRoot, type Shown } from "./shown";
import { SidePanel } from "./sidePanel";
import { Stage } from "./stage";
import { onThemeChange, readPalette, type Palette } from "./theme";
import { Tooltip } from "./tooltip";
import { captureState, restoreAfterRender, savedViewport, SavedState } from "./viewState";
import type { HostApi } from "./vscodeApi";

/** From this many nodes a graph takes long enough to build (≈ 0.1 s and up) that the view says it is drawing it. */
const DRAWING_MARK_NODES = 3000;

/** Resolves once the browser has painted what changed (or soon, if frames are not coming). */
function nextPaint(): Promise<void> {
  return new Promise((resolve) => {
    const fallback = setTimeout(resolve, 100);
    requestAnimationFrame(() => setTimeout(() => (clearTimeout(fallback), resolve()), 0));
  });
}

export class GraphView {
  // Public: the wired modules read the view through narrow `Pick`s of it.
  shown: Shown | undefined;
  nav = new Navigation(undefined);
  controls: Controls | undefined;
  private readonly container = el("div", { id: "graph", class: "graph", tabindex: "0" });
  private readonly banners = new Banners();
  private readonly area = el("div", { class: "graph-area" }, this.container);
  readonly canvas: Canvas;
  readonly stage: Stage;
  readonly side = new SidePanel((i) => this.pickNode(i));
  private readonly tooltip = new Tooltip(() => this.shown?.strings as GraphStrings);
  private readonly inspector = new Inspector(this, this.tooltip);
  readonly searchBox = new SearchBox(this);
  readonly marks = new ScreenMarks(this);
  readonly browser = new LevelBrowser(this);
  readonly playback: Playback;
  readonly saved: SavedState;
  private readonly actions = viewActions(this);
  palette: Palette = readPalette();
  private serial = 0;
  readonly report: RenderReporter;

  constructor(private readonly root: HTMLElement, readonly host: HostApi) {
    this.canvas = new Canvas(this.container, {
      hover: (node, at) => this.inspector.hover(node, at),
      leave: () => this.tooltip.hide(),
      tap: (node) => this.inspector.revealSourceOf(node),
      open: (node) => void this.browser.openElement(node),
      close: () => void this.browser.up(),
      viewport: () => (this.tooltip.hide(), this.stage.minimap?.update(), this.saved.soon()),
    });
    this.report = new RenderReporter(host, () => this.cy);
    this.stage = new Stage(this.canvas, this.report.timings);
    this.saved = new SavedState(host, () => captureState(this));
    this.playback = new Playback(() => this.controls, this.side, () => (this.cy && this.stage.level && this.shown ? { cy: this.cy, level: this.stage.level, shown: this.shown } : undefined), () => this.saved.soon());
    this.area.append(this.tooltip.element);
    this.root.append(this.banners.notice, this.banners.stale, this.banners.drawing, el("div", { class: "body" }, this.area, this.side.element));
    // Until the first graph is in (a big one takes seconds to cross), the page says it is coming instead of staying blank.
    const loading = this.root.dataset.loading;
    if (loading) this.setDrawing(loading);
    onThemeChange(() => this.applyTheme());
    bindKeys(this.actions);
    (window as unknown as { gradlensView?: GraphView }).gradlensView = this;
  }

  get cy(): Canvas["cy"] {
    return this.canvas.cy;
  }

  handle(message: HostMessage): void {
    if (message.type === "showGraph") void this.showGraph(message.result, message.rootIndex, message.strings, message.settings);
    else if (message.type === "revealNode") void this.browser.reveal(message.nodeId);
    else if (message.type === "highlightLine") this.marks.highlightLine(message.file, message.line);
    else if (message.type === "stale") this.setStale(message.stale);
    else this.clear(message.message);
  }

  async showGraph(result: WireResult, rootIndex: number, strings: GraphStrings, settings: ViewSettings): Promise<void> {
    const index = Math.max(0, Math.min(rootIndex, result.roots.length - 1));
    const root = result.roots[index];
    this.report.begin(root);
    const serial = ++this.serial;
    this.ensureControls(strings);
    if (this.controls) fillRootPicker(this.controls, result.roots, index);
    this.setStale(false);
    if (!root || root.graph.nodeCount > settings.nodeLimit) {
      this.clear(root ? fillIn(strings.tooLarge, root.graph.nodeCount, settings.nodeLimit) : (result.error?.message ?? strings.empty));
      this.report.none(root !== undefined || result.error?.kind === "too-large");
      return;
    }
    if (root.graph.nodeCount >= DRAWING_MARK_NODES) {
      // Building a big graph's model blocks this thread: the mark must be painted before it starts.
      this.setDrawing(fillIn(strings.drawing, root.name, root.graph.nodeCount.toLocaleString("en-US")));
      await nextPaint();
      if (serial !== this.serial) return;
    }
    this.shown = this.report.measure("model", () => showRoot(result, index, strings, settings));
    const { model, hierarchy, key } = this.shown;
    const restore = this.saved.restoreFor(key);
    this.nav = new Navigation(hierarchy);
    this.nav.start(restore?.path);
    this.playback.start(this.shown, restore?.animation?.mode ?? "backward");
    this.side.restore(restore?.sideOpen);
    this.banners.showNotice(noticeOf(this.shown));
    this.side.renderLegend(strings, model, this.palette);
    this.side.renderNonFinite(strings, model);
    const paint = await this.report.measured("render", () => this.render(savedViewport(restore), restore?.moved));
    if (serial !== this.serial) return;
    this.setDrawing(undefined);
    restoreAfterRender(this, restore);
    this.saved.now();
    this.report.drawn(paint, hierarchy !== undefined, () => serial === this.serial);
  }

  /** Shows the open level; resolves when every element is in, with when its first view was drawn. */
  async render(viewport?: Viewport, moved = false): Promise<number> {
    const shown = this.shown;
    const on = shown ? await this.stage.show(shown, this.nav.current, this.palette, viewport, moved) : undefined;
    if (!shown || !on) return performance.now();
    this.playback.setLevel(on.level, shown.hierarchy !== undefined);
    this.browser.renderBreadcrumb();
    await this.canvas.ready;
    if (this.stage.level !== on.level) return on.firstPaint;
    // Marks again, now that the whole level is in.
    this.playback.refresh();
    if (this.controls?.search.value) this.searchBox.run(this.controls.search.value, false);
    return on.firstPaint;
  }

  // ---- groups and nodes ------------------------------------------------------------------

  /** Test hook: opens a group as a double click would. */
  openGroup(key: string): Promise<void> {
    return this.browser.open(key);
  }

  private pickNode(i: number): void {
    void this.browser.reveal(i);
    this.inspector.revealSourceOfNode(i);
  }

  // ---- search and the stale mark ------------------------------------------------------

  /** Test and benchmark hook: the search box's query. */
  search(query: string, move = true): number {
    return this.searchBox.run(query, move);
  }

  /** The mark over the previous graph while the next one is built (`undefined`: drawn, or none coming). */
  private setDrawing(text: string | undefined): void {
    this.banners.setDrawing(text);
    this.container.classList.toggle("drawing", text !== undefined);
  }

  private setStale(stale: boolean): void {
    this.banners.setStale(stale, this.shown?.strings.stale ?? "");
    this.container.classList.toggle("stale", stale);
  }

  // ---- stepping -------------------------------------------------------------------------

  get step(): number {
    return this.playback.step;
  }

  get animationGrads(): Float64Array | undefined {
    return this.playback.stepper?.animation.grad;
  }

  seek(target: number): void {
    this.playback.seek(target);
  }

  // ---- toolbar, theme, state ------------------------------------------------------------

  private ensureControls(strings: GraphStrings): void {
    if (this.controls) return;
    this.controls = mountControls(this.root, strings, this.actions);
    this.area.append(this.stage.addMinimap(strings.minimap).element);
  }

  private applyTheme(): void {
    this.palette = readPalette();
    this.canvas.restyle(this.palette);
    if (this.shown) this.side.renderLegend(this.shown.strings, this.shown.model, this.palette);
    if (this.cy) this.stage.minimap?.attach(this.cy, this.palette, this.canvas.boxes, this.canvas.bounds);
  }

  /** No graph: a message instead. */
  private clear(message: string): void {
    this.serial++;
    this.setDrawing(undefined);
    this.playback.stop();
    this.stage.clear();
    this.shown = undefined;
    this.nav = new Navigation(undefined);
    if (this.controls) this.controls.breadcrumb.hidden = true;
    this.banners.showNotice(message);
  }

  /** Test hooks: the model, the level, the hierarchy; whether the layout ran in its worker. */
  get current(): { model: GraphModel; level: Level; hierarchy: Hierarchy | undefined; path: string[] } | undefined {
    return this.shown && this.stage.level ? { model: this.shown.model, level: this.stage.level, hierarchy: this.shown.hierarchy, path: this.nav.keys } : undefined;
  }

  get timings(): Record<string, number> {
    return this.report.timings;
  }

  get layoutRanInWorker(): boolean {
    return layoutUsesWorker();
  }
}
