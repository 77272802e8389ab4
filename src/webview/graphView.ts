/**
 * The graph view's controller: takes the host's messages and wires the parts — the model and its
 * hierarchy, the level on screen (elements.ts, layout.ts, canvas.ts), the stepper, the side panel,
 * the toolbar, search, and the saved state.
 */
import type { NodeSingular } from "cytoscape";
import { fromWireGraph } from "../protocol/messages";
import type { GraphStrings, HostMessage, ViewSettings, ViewState, WireResult } from "../protocol/messages";
import { Canvas } from "./canvas";
import { buildControls, renderBreadcrumb, speeds, type Controls } from "./controls";
import { el, setText } from "./dom";
import { graphToDot } from "./dot";
import { buildLevel, type LabelContext } from "./elements";
import { fillIn } from "./format";
import { buildModel, nameOf, type GraphModel } from "./graphModel";
import { Hierarchy, type Group } from "./hierarchy";
import { layoutInWorker, layoutUsesWorker } from "./layout";
import { flatLevel, groupLevel, itemElementId, type Level } from "./level";
import { Minimap } from "./minimap";
import { findNodes } from "./search";
import { markLine, markMatches, markPaths, markStep } from "./marks";
import { SidePanel } from "./sidePanel";
import { Stepper, type StepMode } from "./stepper";
import { graphToSvg } from "./svgExport";
import { readPalette, type Palette } from "./theme";
import { Tooltip } from "./tooltip";
import { SavedState } from "./viewState";
import type { HostApi } from "./vscodeApi";

interface Shown extends LabelContext {
  result: WireResult;
  rootIndex: number;
  settings: ViewSettings;
  /** The call stacks (grouping uses them only when `hierarchy` is set). */
  calls: Hierarchy;
  key: string;
}

export class GraphView {
  private shown: Shown | undefined;
  private level: Level | undefined;
  /** The open groups, outermost first (empty: the graph node by node). */
  private path: Group[] = [];
  private stepper: Stepper | undefined;
  private controls: Controls | undefined;
  private minimap: Minimap | undefined;
  private readonly container = el("div", { id: "graph", class: "graph", tabindex: "0" });
  private readonly notice = el("div", { class: "notice", role: "status" });
  private readonly staleBanner = el("div", { class: "stale-banner", role: "status", hidden: "" });
  private readonly area = el("div", { class: "graph-area" }, this.container);
  private readonly canvas: Canvas;
  private readonly side = new SidePanel((i) => this.pickNode(i));
  private readonly tooltip = new Tooltip(() => this.shown?.strings as GraphStrings);
  private readonly saved: SavedState;
  private palette: Palette = readPalette();
  private matches: number[] = [];
  private matchIndex = 0;
  private playing: ReturnType<typeof setInterval> | undefined;
  private serial = 0;
  /** Milliseconds per phase of the last render (reported by the benchmark). */
  readonly timings: Record<string, number> = {};

  constructor(private readonly root: HTMLElement, private readonly host: HostApi) {
    this.canvas = new Canvas(this.container, {
      hover: (node, at) => this.hover(node, at),
      leave: () => this.tooltip.hide(),
      tap: (node) => this.revealSourceOf(node),
      open: (node) => void this.openElement(node),
      close: () => void this.up(),
      viewport: () => {
        this.tooltip.hide();
        this.minimap?.update();
        this.saved.soon();
      },
    });
    this.saved = new SavedState(host, () => this.state());
    this.area.append(this.tooltip.element);
    this.root.append(this.notice, this.staleBanner, el("div", { class: "body" }, this.area, this.side.element));
    new MutationObserver(() => this.applyTheme()).observe(document.body, { attributes: true, attributeFilter: ["class", "style"] });
    document.addEventListener("keydown", (e) => this.onKey(e));
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
    else {
      this.clear();
      this.showNotice(message.message);
    }
  }

  async showGraph(result: WireResult, rootIndex: number, strings: GraphStrings, settings: ViewSettings): Promise<void> {
    const started = performance.now();
    const serial = ++this.serial;
    this.stop();
    this.ensureControls(strings);
    const index = Math.max(0, Math.min(rootIndex, result.roots.length - 1));
    const root = result.roots[index];
    this.fillRoots(result, index);
    this.setStale(false);
    const report = (grouped: boolean, tooLarge: boolean): void =>
      this.host.postMessage({ type: "rendered", nodeCount: root?.graph.nodeCount ?? 0, visibleNodes: this.cy?.nodes().length ?? 0, elementCount: this.cy?.elements().length ?? 0, grouped, tooLarge, ms: performance.now() - started });
    if (!root || root.graph.nodeCount > settings.nodeLimit) {
      this.clear();
      this.showNotice(root ? fillIn(strings.tooLarge, root.graph.nodeCount, settings.nodeLimit) : (result.error?.message ?? strings.empty));
      report(false, root !== undefined || result.error?.kind === "too-large");
      return;
    }
    let mark = performance.now();
    const snapshot = fromWireGraph(root.graph);
    const origin = result.nonFinite?.root === index ? result.nonFinite.id : undefined;
    const model = buildModel(snapshot, result.sites, { origin, paths: root.parameterPaths });
    const grouped = snapshot.nodeCount > settings.groupThreshold;
    // Call stacks name a node's calls in the tooltip and in search at any size; groups only when big.
    const calls = new Hierarchy(model, root.frames);
    const hierarchy = grouped ? calls : undefined;
    const key = `${result.file}#${index}#${snapshot.nodeCount}#${snapshot.data[snapshot.root]}`;
    this.shown = { result, rootIndex: index, strings, settings, model, hierarchy, calls, key };
    this.timings.model = performance.now() - mark;
    const restore = this.saved.restoreFor(key);
    this.path = hierarchy ? hierarchy.openPath(restore?.path) : [];
    this.stepper = new Stepper(model);
    this.stepper.mode = restore?.animation?.mode ?? "backward";
    if (this.controls) this.controls.mode.value = this.stepper.mode;
    this.side.restore(restore?.sideOpen);
    this.showNotice([root.truncated ? strings.truncated : "", grouped ? fillIn(strings.grouped, snapshot.nodeCount) : ""].filter((x) => x).join(" "));
    this.side.renderLegend(strings, model, this.palette);
    this.side.renderNonFinite(strings, model);
    mark = performance.now();
    await this.render(restore?.zoom !== undefined && restore.pan ? { zoom: restore.zoom, pan: restore.pan } : undefined, restore?.moved);
    if (serial !== this.serial) return;
    this.timings.render = performance.now() - mark;
    if (restore?.animation?.step) this.seek(restore.animation.step);
    if (restore?.search && this.controls) {
      this.controls.search.value = restore.search;
      this.search(restore.search, false);
    }
    if (restore?.selected) this.cy?.getElementById(restore.selected).select();
    this.saved.now();
    // "Rendered" means the first frame with the graph was drawn.
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (serial !== this.serial) return;
        this.timings.total = performance.now() - started;
        report(grouped, false);
      }),
    );
  }

  /** Builds the open level, lays it out in the worker, and shows it. */
  private async render(viewport?: { zoom: number; pan: { x: number; y: number } }, moved = false): Promise<void> {
    const shown = this.shown;
    if (!shown) return;
    const serial = this.serial;
    const { model, hierarchy } = shown;
    const open = this.path[this.path.length - 1];
    const level = hierarchy && open ? groupLevel(model, hierarchy, open) : flatLevel(model);
    let mark = performance.now();
    const built = buildLevel(shown, level);
    this.timings.elements = performance.now() - mark;
    mark = performance.now();
    const positions = await layoutInWorker(built.layout);
    this.timings.layout = performance.now() - mark;
    if (serial !== this.serial) return;
    built.ids.forEach((_, k) => (built.elements[k].position = { x: positions.x[k], y: positions.y[k] }));
    mark = performance.now();
    this.level = level;
    this.stepper?.setLevel(hierarchy ? level : undefined);
    const cy = this.canvas.show(built.elements, this.palette, this.focusOf(level), viewport);
    if (viewport) this.canvas.moved = moved;
    this.timings.cytoscape = performance.now() - mark;
    this.minimap?.attach(cy, this.palette);
    this.renderBreadcrumb();
    this.refreshStep();
    if (this.controls?.search.value) this.search(this.controls.search.value, false);
  }

  /** The element a big level's first view centres on: the item holding the level's last value (the output). */
  private focusOf(level: Level): string | undefined {
    for (let i = level.rep.length - 1; i >= 0; i--) if (level.rep[i] >= 0) return itemElementId(level.items[level.rep[i]]);
    return undefined;
  }

  // ---- groups: open, up, breadcrumb ---------------------------------------------------

  async openGroup(key: string): Promise<void> {
    const h = this.shown?.hierarchy;
    const open = this.path[this.path.length - 1];
    const item = h && open ? h.contents(open).find((x) => x.kind === "group" && x.group.key === key) : undefined;
    if (!h || !item || item.kind !== "group") return;
    this.path = h.descend([...this.path, item.group]);
    await this.render();
    this.saved.now();
  }

  async up(levels = 1): Promise<void> {
    if (this.path.length <= 1) return;
    const left = this.path[this.path.length - 1];
    this.path = this.path.slice(0, Math.max(1, this.path.length - levels));
    // A group that opened by itself (the only one on its level) closes with its parent.
    const h = this.shown?.hierarchy;
    while (h && this.path.length > 1 && h.contents(this.path[this.path.length - 1]).length === 1) this.path.pop();
    await this.render();
    this.cy?.getElementById(`g${left.key}`).select();
    this.saved.now();
  }

  private openElement(node: NodeSingular): Promise<void> {
    const key = node.data("group") as string | undefined;
    return key !== undefined ? this.openGroup(key) : Promise.resolve();
  }

  private renderBreadcrumb(): void {
    const { controls, shown } = this;
    if (!controls || !shown) return;
    renderBreadcrumb(controls, this.path, shown.result.roots[shown.rootIndex]?.name ?? "", (levels) => void this.up(levels));
  }

  /** Opens the groups down to node i and selects it there. */
  async revealNode(i: number): Promise<void> {
    const shown = this.shown;
    if (!shown || i < 0 || i >= shown.model.snapshot.nodeCount) return;
    if (shown.hierarchy) {
      const path = shown.hierarchy.pathTo(i);
      if (path.map((g) => g.key).join("/") !== this.path.map((g) => g.key).join("/")) {
        this.path = path;
        await this.render();
      }
    }
    const id = this.elementOf(i);
    if (!id || !this.cy) return;
    this.cy.nodes(":selected").unselect();
    this.cy.getElementById(id).select();
    this.canvas.reveal(id);
    this.saved.soon();
  }

  private elementOf(i: number): string | undefined {
    const item = this.level && this.level.rep[i] >= 0 ? this.level.items[this.level.rep[i]] : undefined;
    return item ? itemElementId(item) : undefined;
  }

  private pickNode(i: number): void {
    void this.revealNode(i);
    const shown = this.shown;
    const site = shown && shown.model.snapshot.site[i] > 0 ? shown.result.sites[shown.model.snapshot.site[i]] : undefined;
    if (site) this.host.postMessage({ type: "revealSource", file: site.file, line: site.line, column: site.column });
  }

  // ---- search, paths, editor line ---------------------------------------------------------

  search(query: string, move = true): number {
    const shown = this.shown;
    const cy = this.cy;
    if (!shown || !cy || !this.controls) return 0;
    const mark = performance.now();
    this.matches = findNodes(shown.model, shown.calls, query);
    this.matchIndex = 0;
    markMatches(cy, this.level as Level, this.matches);
    this.timings.search = performance.now() - mark;
    setText(this.controls.searchCount, query.trim() ? (this.matches.length > 0 ? `1/${this.matches.length}` : shown.strings.noMatch) : "");
    if (move && this.matches.length > 0) void this.focusMatch();
    this.saved.soon();
    return this.matches.length;
  }

  private async focusMatch(): Promise<void> {
    if (!this.controls || this.matches.length === 0) return;
    setText(this.controls.searchCount, `${this.matchIndex + 1}/${this.matches.length}`);
    await this.revealNode(this.matches[this.matchIndex]);
  }

  /** Highlights how the selected node (or group) reaches the output. */
  showPaths(): void {
    const { shown, cy, level } = this;
    if (!shown || !cy || !level) return;
    const selected = cy.nodes(":selected").first();
    const data = selected.nonempty() ? (selected.data() as { node?: number; group?: string }) : {};
    const group = data.group !== undefined ? shown.hierarchy?.get(data.group) : undefined;
    markPaths(cy, level, shown, data.node !== undefined ? [data.node] : group && shown.hierarchy ? shown.hierarchy.members(group) : []);
  }

  highlightLine(file: string, line: number): void {
    if (this.shown && this.cy && this.level) markLine(this.cy, this.level, this.shown, this.shown.result.sites, file, line);
  }

  private setStale(stale: boolean): void {
    this.staleBanner.hidden = !stale;
    this.container.classList.toggle("stale", stale);
    setText(this.staleBanner, stale ? (this.shown?.strings.stale ?? "") : "");
  }

  // ---- stepping ------------------------------------------------------------------------

  get step(): number {
    return this.stepper?.step ?? 0;
  }

  get animationGrads(): Float64Array | undefined {
    return this.stepper?.animation.grad;
  }

  seek(target: number): void {
    this.stepper?.seek(target);
    this.refreshStep();
    this.saved.soon();
  }

  setMode(mode: StepMode): void {
    this.stop();
    this.stepper?.setMode(mode, this.shown?.hierarchy ? this.level : undefined);
    if (this.controls) this.controls.mode.value = mode;
    this.refreshStep();
    this.saved.soon();
  }

  togglePlay(): void {
    const stepper = this.stepper;
    if (this.playing || !stepper) {
      this.stop();
      return;
    }
    if (stepper.step >= stepper.stepCount) this.seek(0);
    const speed = speeds[Number(this.controls?.speed.value ?? 2)] ?? 2;
    this.playing = setInterval(() => (stepper.step >= stepper.stepCount ? this.stop() : this.seek(stepper.step + 1)), 1000 / speed);
    if (this.controls) {
      setText(this.controls.play, "❚❚");
      this.controls.play.title = this.shown?.strings.pause ?? "";
    }
  }

  private stop(): void {
    if (this.playing) clearInterval(this.playing);
    this.playing = undefined;
    if (this.controls) {
      setText(this.controls.play, "▶");
      this.controls.play.title = this.shown?.strings.play ?? "";
    }
  }

  /** Labels with the grads (or values) known at this step, the active item, the trace. */
  private refreshStep(): void {
    const { cy, shown, level, stepper } = this;
    if (!cy || !shown || !level || !stepper || !this.controls) return;
    markStep(cy, level, shown, stepper);
    setText(this.controls.stepLabel, `${stepper.step}/${stepper.stepCount}`);
    this.side.showTrace(stepper.traceLines(shown.strings, (k) => {
      const item = level.items[k];
      return !item ? shown.strings.topLevel : item.kind === "node" ? nameOf(shown.model, item.node) : item.group.title;
    }));
  }

  // ---- hover, click, keys ------------------------------------------------------------------

  private hover(node: NodeSingular, at: { x: number; y: number }): void {
    const shown = this.shown;
    if (!shown) return;
    const data = node.data() as { node?: number; group?: string; op?: number };
    const i = data.node ?? data.op;
    const running = this.stepper && this.stepper.mode === "backward" && this.stepper.rawStep > 0 ? this.stepper.animation.grad : undefined;
    const group = data.group !== undefined ? shown.hierarchy?.get(data.group) : undefined;
    const rows = i !== undefined ? this.tooltip.nodeRows(shown.model, i, running?.[i], shown.calls) : group && shown.hierarchy ? this.tooltip.groupRows(shown.model, group, shown.hierarchy.members(group)) : undefined;
    if (rows) this.tooltip.showAt(at.x, at.y, rows);
  }

  /** Click: the editor shows the line that made the node (or the group's call). */
  private revealSourceOf(node: NodeSingular): void {
    const shown = this.shown;
    if (!shown) return;
    const data = node.data() as { node?: number; group?: string; op?: number };
    const i = data.node ?? data.op;
    const siteId = i !== undefined ? shown.model.snapshot.site[i] : data.group !== undefined ? (shown.hierarchy?.get(data.group)?.site ?? 0) : 0;
    const site = siteId > 0 ? shown.result.sites[siteId] : undefined;
    if (site) this.host.postMessage({ type: "revealSource", file: site.file, line: site.line, column: site.column });
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement | null;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
    if (target?.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) return;
    const selected = this.cy?.nodes(":selected").first();
    const actions: Record<string, () => void> = {
      " ": () => this.togglePlay(),
      ArrowRight: () => this.seek(this.step + 1),
      ArrowLeft: () => this.seek(this.step - 1),
      Home: () => this.seek(0),
      End: () => this.seek(this.stepper?.stepCount ?? 0),
      "/": () => this.controls?.search.focus(),
      "+": () => this.canvas.zoomIn(),
      "=": () => this.canvas.zoomIn(),
      "-": () => this.canvas.zoomOut(),
      "0": () => this.canvas.zoomReset(),
      f: () => this.canvas.fit(),
      p: () => this.showPaths(),
      Backspace: () => void this.up(),
      Enter: () => selected && selected.nonempty() && void this.openElement(selected),
    };
    const action = actions[e.key];
    if (action && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      action();
    }
  }

  // ---- toolbar, export, theme, state ----------------------------------------------------

  private ensureControls(strings: GraphStrings): void {
    if (this.controls) return;
    const c = buildControls(strings);
    this.controls = c;
    this.root.prepend(c.toolbar, c.breadcrumb);
    this.minimap = new Minimap(strings.minimap);
    this.minimap.onUserMove = () => (this.canvas.moved = true);
    this.area.append(this.minimap.element);
    const on = (element: HTMLElement, event: string, handler: () => void): void => element.addEventListener(event, handler);
    on(c.rootSelect, "change", () => {
      const shown = this.shown;
      if (!shown) return;
      this.host.postMessage({ type: "state", state: { rootIndex: Number(c.rootSelect.value) } });
      void this.showGraph(shown.result, Number(c.rootSelect.value), shown.strings, shown.settings);
    });
    on(c.mode, "change", () => this.setMode(c.mode.value === "forward" ? "forward" : "backward"));
    on(c.reset, "click", () => (this.stop(), this.seek(0)));
    on(c.stepBack, "click", () => this.seek(this.step - 1));
    on(c.play, "click", () => this.togglePlay());
    on(c.step, "click", () => this.seek(this.step + 1));
    on(c.speed, "change", () => this.playing && (this.stop(), this.togglePlay()));
    on(c.search, "input", () => this.search(c.search.value));
    c.search.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || this.matches.length === 0) return;
      this.matchIndex = (this.matchIndex + (e.shiftKey ? this.matches.length - 1 : 1)) % this.matches.length;
      void this.focusMatch();
    });
    on(c.zoomIn, "click", () => this.canvas.zoomIn());
    on(c.zoomOut, "click", () => this.canvas.zoomOut());
    on(c.zoomReset, "click", () => this.canvas.zoomReset());
    on(c.fit, "click", () => this.canvas.fit());
    on(c.up, "click", () => void this.up());
    on(c.paths, "click", () => this.showPaths());
    on(c.sideToggle, "click", () => (this.side.setOpen(!this.side.open), this.saved.soon()));
    on(c.minimapToggle, "click", () => this.minimap && ((this.minimap.enabled = !this.minimap.enabled), this.minimap.update()));
    on(c.exportPng, "click", () => this.exportImage("png"));
    on(c.exportSvg, "click", () => this.exportImage("svg"));
    on(c.exportDot, "click", () => this.exportDot());
  }

  private fillRoots(result: WireResult, index: number): void {
    const c = this.controls;
    if (!c) return;
    c.rootSelect.replaceChildren(...result.roots.map((r, k) => el("option", { value: String(k) }, `${r.name} (${r.graph.nodeCount})`)));
    c.rootSelect.value = String(index);
    c.rootSelect.hidden = result.roots.length < 2;
  }

  exportImage(format: "png" | "svg"): string | undefined {
    const cy = this.cy;
    if (!cy) return undefined;
    const bg = this.palette.background;
    const data = format === "png" ? cy.png({ output: "base64uri", full: true, bg, maxWidth: 8000, maxHeight: 8000 }) : graphToSvg(cy, bg);
    this.host.postMessage({ type: "exportFile", format, data });
    return data;
  }

  exportDot(): string | undefined {
    const shown = this.shown;
    if (!shown) return undefined;
    const data = graphToDot(shown.model, shown.result.roots[shown.rootIndex]?.name ?? "graph");
    this.host.postMessage({ type: "exportFile", format: "dot", data });
    return data;
  }

  private showNotice(text: string): void {
    setText(this.notice, text);
    this.notice.hidden = text === "";
  }

  private applyTheme(): void {
    this.palette = readPalette();
    this.canvas.restyle(this.palette);
    if (this.shown) this.side.renderLegend(this.shown.strings, this.shown.model, this.palette);
    if (this.cy) this.minimap?.attach(this.cy, this.palette);
  }

  private state(): ViewState | undefined {
    const shown = this.shown;
    const cy = this.cy;
    if (!shown) return undefined;
    const selected = cy?.nodes(":selected").first();
    return {
      rootIndex: shown.rootIndex,
      graphKey: shown.key,
      zoom: cy?.zoom(),
      pan: cy?.pan(),
      moved: this.canvas.moved,
      selected: selected && selected.nonempty() ? selected.id() : undefined,
      path: this.path.map((g) => g.key),
      animation: this.stepper ? { mode: this.stepper.mode, step: this.stepper.step } : undefined,
      search: this.controls?.search.value || undefined,
      sideOpen: this.side.open,
    };
  }

  saveState(): void {
    this.saved.now();
  }

  private clear(): void {
    this.stop();
    this.canvas.destroy();
    this.shown = undefined;
    this.level = undefined;
    this.path = [];
    if (this.controls) this.controls.breadcrumb.hidden = true;
  }

  /** Test hooks: the model, the level, the hierarchy; whether the layout ran in its worker. */
  get current(): { model: GraphModel; level: Level; hierarchy: Hierarchy | undefined; path: string[] } | undefined {
    return this.shown && this.level ? { model: this.shown.model, level: this.level, hierarchy: this.shown.hierarchy, path: this.path.map((g) => g.key) } : undefined;
  }

  get layoutRanInWorker(): boolean {
    return layoutUsesWorker();
  }
}
