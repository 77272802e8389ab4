/**
 * The graph view's controller: takes the host's messages and wires the parts — the model and its
 * hierarchy (graphModel, hierarchy), which groups are open (navigation), the level on screen
 * (level, elements, layout, canvas), stepping (playback), search (finder), the hover card
 * (inspect, tooltip), the side panel, the toolbar and keys, exports, and the saved state.
 */
import type { NodeSingular } from "cytoscape";
import type { GraphStrings, HostMessage, ViewSettings, WireResult } from "../protocol/messages";
import type { SourceSite } from "../protocol/result";
import { Canvas, type Viewport } from "./canvas";
import { viewActions } from "./actions";
import { Banners } from "./banners";
import { groupTitle } from "./captions";
import { bindControls, buildControls, fillRootPicker, renderBreadcrumb, type Controls } from "./controls";
import { el } from "./dom";
import { fillIn } from "./format";
import type { GraphModel } from "./graphModel";
import { Hierarchy } from "./hierarchy";
import { hoverRows, sourceOf, sourceOfNode, type Inspected } from "./inspect";
import { bindKeys } from "./keys";
import { layoutUsesWorker } from "./layout";
import type { Level } from "./level";
import { markLine, markSelectedPaths } from "./marks";
import { Minimap } from "./minimap";
import { Navigation } from "./navigation";
import { Playback } from "./playback";
import { SearchBox } from "./searchBox";
import { noticeOf, showRoot, type Shown } from "./shown";
import { SidePanel } from "./sidePanel";
import { Stage } from "./stage";
import { readPalette, type Palette } from "./theme";
import { Tooltip } from "./tooltip";
import { captureState, restoreAfterRender, savedViewport, SavedState } from "./viewState";
import type { HostApi } from "./vscodeApi";

export class GraphView {
  // Read by the modules this view wires (actions, search box, saved state, exports).
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
  readonly searchBox = new SearchBox(this);
  readonly playback: Playback;
  readonly saved: SavedState;
  private readonly actions = viewActions(this);
  palette: Palette = readPalette();
  private serial = 0;
  /** Milliseconds per phase of the last render (reported by the benchmark). */
  readonly timings: Record<string, number> = {};

  constructor(private readonly root: HTMLElement, readonly host: HostApi) {
    this.canvas = new Canvas(this.container, {
      hover: (node, at) => this.hover(node, at),
      leave: () => this.tooltip.hide(),
      tap: (node) => this.revealSourceOf(node),
      open: (node) => void this.openElement(node),
      close: () => void this.up(),
      viewport: () => (this.tooltip.hide(), this.stage.minimap?.update(), this.saved.soon()),
    });
    this.stage = new Stage(this.canvas, this.timings);
    this.saved = new SavedState(host, () => captureState(this));
    this.playback = new Playback(() => this.controls, this.side, () => (this.cy && this.stage.level && this.shown ? { cy: this.cy, level: this.stage.level, shown: this.shown } : undefined), () => this.saved.soon());
    this.area.append(this.tooltip.element);
    this.root.append(this.banners.notice, this.banners.stale, el("div", { class: "body" }, this.area, this.side.element));
    new MutationObserver(() => this.applyTheme()).observe(document.body, { attributes: true, attributeFilter: ["class", "style"] });
    bindKeys(this.actions);
    (window as unknown as { gradlensView?: GraphView }).gradlensView = this;
  }

  get cy(): Canvas["cy"] {
    return this.canvas.cy;
  }

  handle(message: HostMessage): void {
    if (message.type === "showGraph") void this.showGraph(message.result, message.rootIndex, message.strings, message.settings);
    else if (message.type === "revealNode") void this.revealNode(message.nodeId);
    else if (message.type === "highlightLine") this.highlightLine(message.file, message.line);
    else if (message.type === "stale") this.setStale(message.stale);
    else this.clear(message.message);
  }

  async showGraph(result: WireResult, rootIndex: number, strings: GraphStrings, settings: ViewSettings): Promise<void> {
    const started = performance.now();
    const serial = ++this.serial;
    this.ensureControls(strings);
    const index = Math.max(0, Math.min(rootIndex, result.roots.length - 1));
    const root = result.roots[index];
    if (this.controls) fillRootPicker(this.controls, result.roots, index);
    this.setStale(false);
    const report = (grouped: boolean, tooLarge: boolean, firstPaintMs?: number): void =>
      this.host.postMessage({ type: "rendered", nodeCount: root?.graph.nodeCount ?? 0, visibleNodes: this.cy?.nodes().length ?? 0, elementCount: this.cy?.elements().length ?? 0, grouped, tooLarge, ms: performance.now() - started, firstPaintMs });
    if (!root || root.graph.nodeCount > settings.nodeLimit) {
      this.clear(root ? fillIn(strings.tooLarge, root.graph.nodeCount, settings.nodeLimit) : (result.error?.message ?? strings.empty));
      report(false, root !== undefined || result.error?.kind === "too-large");
      return;
    }
    let mark = performance.now();
    this.shown = showRoot(result, index, strings, settings);
    const { model, hierarchy, key } = this.shown;
    this.timings.model = performance.now() - mark;
    const restore = this.saved.restoreFor(key);
    this.nav = new Navigation(hierarchy);
    this.nav.start(restore?.path);
    this.playback.start(this.shown, restore?.animation?.mode ?? "backward");
    this.side.restore(restore?.sideOpen);
    this.banners.showNotice(noticeOf(this.shown));
    this.side.renderLegend(strings, model, this.palette);
    this.side.renderNonFinite(strings, model);
    mark = performance.now();
    const paint = await this.render(savedViewport(restore), restore?.moved);
    if (serial !== this.serial) return;
    this.timings.render = performance.now() - mark;
    restoreAfterRender(this, restore);
    this.saved.now();
    this.timings.firstPaint = paint - started;
    // "Rendered" means every element is in and a frame with them was drawn.
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (serial !== this.serial) return;
        this.timings.total = performance.now() - started;
        report(hierarchy !== undefined, false, this.timings.firstPaint);
      }),
    );
  }

  /** Shows the open level; resolves when every element is in, with when its first view was drawn. */
  private async render(viewport?: Viewport, moved = false): Promise<number> {
    const shown = this.shown;
    const on = shown ? await this.stage.show(shown, this.nav.current, this.palette, viewport, moved) : undefined;
    if (!shown || !on) return performance.now();
    this.playback.setLevel(on.level, shown.hierarchy !== undefined);
    this.renderBreadcrumb();
    await this.canvas.ready;
    if (this.stage.level !== on.level) return on.firstPaint;
    // Marks again, now that the whole level is in.
    this.playback.refresh();
    if (this.controls?.search.value) this.searchBox.run(this.controls.search.value, false);
    return on.firstPaint;
  }

  // ---- groups and nodes ------------------------------------------------------------------

  async openGroup(key: string): Promise<void> {
    if (!this.nav.open(key)) return;
    await this.render();
    this.saved.now();
  }

  async up(levels = 1): Promise<void> {
    const left = this.nav.up(levels);
    if (!left) return;
    await this.render();
    this.cy?.getElementById(`g${left.key}`).select();
    this.saved.now();
  }

  openElement(node: NodeSingular): Promise<void> {
    const key = node.data("group") as string | undefined;
    return key !== undefined ? this.openGroup(key) : Promise.resolve();
  }

  private renderBreadcrumb(): void {
    const { controls, shown } = this;
    if (!controls || !shown) return;
    renderBreadcrumb(controls, this.nav.path, shown.result.roots[shown.rootIndex]?.name ?? "", (g) => groupTitle(shown.strings, g), (levels) => void this.up(levels));
  }

  /** Opens the groups down to node i and selects it there. */
  async revealNode(i: number): Promise<void> {
    const shown = this.shown;
    if (!shown || i < 0 || i >= shown.model.snapshot.nodeCount) return;
    if (this.nav.reach(i)) await this.render();
    await this.canvas.ready;
    const id = this.stage.elementOf(i);
    if (!id || !this.cy) return;
    this.cy.nodes(":selected").unselect();
    this.cy.getElementById(id).select();
    this.canvas.reveal(id);
    this.saved.soon();
  }

  private pickNode(i: number): void {
    void this.revealNode(i);
    this.revealSource(this.inspected && sourceOfNode(this.inspected, i));
  }

  // ---- marks: search, paths, the editor's line, stale -------------------------------------

  /** Test and benchmark hook: the search box's query. */
  search(query: string, move = true): number {
    return this.searchBox.run(query, move);
  }

  /** Highlights how the selected node (or group) reaches the output. */
  showPaths(): void {
    if (this.shown && this.cy && this.stage.level) markSelectedPaths(this.cy, this.stage.level, this.shown);
  }

  highlightLine(file: string, line: number): void {
    if (this.shown && this.cy && this.stage.level) markLine(this.cy, this.stage.level, this.shown, this.shown.result.sites, file, line);
  }

  private setStale(stale: boolean): void {
    this.banners.setStale(stale, this.shown?.strings.stale ?? "");
    this.container.classList.toggle("stale", stale);
  }

  // ---- stepping, hover, click -----------------------------------------------------------

  get step(): number {
    return this.playback.step;
  }

  get animationGrads(): Float64Array | undefined {
    return this.playback.stepper?.animation.grad;
  }

  seek(target: number): void {
    this.playback.seek(target);
  }

  private hover(node: NodeSingular, at: { x: number; y: number }): void {
    const rows = this.inspected && hoverRows(this.inspected, this.tooltip, node, this.playback.stepper);
    if (rows) this.tooltip.showAt(at.x, at.y, rows);
  }

  /** Click: the editor shows the line that made the node (or the group's call). */
  private revealSourceOf(node: NodeSingular): void {
    this.revealSource(this.inspected && sourceOf(this.inspected, node));
  }

  private revealSource(site: SourceSite | undefined): void {
    if (site) this.host.postMessage({ type: "revealSource", file: site.file, line: site.line, column: site.column });
  }

  private get inspected(): Inspected | undefined {
    return this.shown && { ...this.shown, sites: this.shown.result.sites };
  }

  // ---- toolbar, exports, theme, state --------------------------------------------------

  private ensureControls(strings: GraphStrings): void {
    if (this.controls) return;
    const c = buildControls(strings);
    this.controls = c;
    this.root.prepend(c.toolbar, c.breadcrumb);
    const minimap = new Minimap(strings.minimap);
    this.stage.minimap = minimap;
    minimap.onUserMove = () => (this.canvas.moved = true);
    this.area.append(minimap.element);
    bindControls(c, this.actions);
  }

  private applyTheme(): void {
    this.palette = readPalette();
    this.canvas.restyle(this.palette);
    if (this.shown) this.side.renderLegend(this.shown.strings, this.shown.model, this.palette);
    if (this.cy) this.stage.minimap?.attach(this.cy, this.palette, this.canvas.boxes, this.canvas.bounds);
  }

  saveState(): void {
    this.saved.now();
  }

  /** No graph: a message instead. */
  private clear(message: string): void {
    this.serial++;
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

  get layoutRanInWorker(): boolean {
    return layoutUsesWorker();
  }
}
