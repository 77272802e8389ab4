/**
 * The graph view: builds cytoscape elements from a snapshot (one by one, or grouped by source
 * expression when large), lays them out in a worker, and wires hover, click-to-source,
 * line highlighting, search, the backprop/forward animation, export and saved state.
 */
import cytoscape from "cytoscape";
import type { Core, ElementDefinition, EventObject, NodeSingular } from "cytoscape";
import type { GraphSnapshot } from "../engine/snapshot";
import { fromWireGraph } from "../protocol/messages";
import type { GraphStrings, HostMessage, ViewSettings, ViewState, WireResult } from "../protocol/messages";
import { BackwardAnimation } from "./animation";
import { buildControls, speeds, type Controls } from "./controls";
import { el, setText } from "./dom";
import { graphToDot } from "./dot";
import { fillIn, formatNumber } from "./format";
import { buildModel, gradBucket, gradBuckets, nameOf, opOf, roleOf, type GraphModel } from "./graphModel";
import {
  type Group,
  type VisibleGraph,
  functionElementId,
  groupElementId,
  groupKeyOf,
  groupsOf,
  maxExpandable,
  nodeElementId,
  visibleGraph,
} from "./grouping";
import { layoutInWorker, layoutUsesWorker, type LayoutInput } from "./layout";
import { graphToSvg } from "./svgExport";
import { graphStyle, readPalette, type GraphSize, type Palette } from "./theme";
import { Tooltip } from "./tooltip";
import type { HostApi } from "./vscodeApi";

const charWidth = 6.6;
const nodeHeight = 26;
/** Element counts where the style gets cheaper (see `graphStyle`). */
const mediumElementCount = 400;
const largeElementCount = 4000;

function sizeOf(elementCount: number): GraphSize {
  return elementCount > largeElementCount ? "large" : elementCount > mediumElementCount ? "medium" : "small";
}
/** Edge labels (local gradients) only on graphs this small. */
const edgeLabelLimit = 600;
/** Up to this many nodes each op is a node of its own (micrograd's picture); above, a badge in the label. */
const opNodeLimit = 600;

type AnimationMode = "backward" | "forward";

/**
 * Columns for grouped items from their mean layer: numbered densely, and when that would make
 * a long thin line (each group alone in its column), several items of neighbouring layers
 * share a column, so the overview is about as wide as it is tall.
 */
export function packColumns(layer: number[], out: number[]): void {
  const count = layer.length;
  const distinct = [...new Set(layer)].sort((a, b) => a - b);
  const target = Math.ceil(Math.sqrt(2 * count));
  if (distinct.length <= target) {
    const dense = new Map(distinct.map((c, k) => [c, k]));
    for (let k = 0; k < count; k++) out[k] = dense.get(layer[k]) as number;
    return;
  }
  const order = Array.from({ length: count }, (_, k) => k).sort((a, b) => layer[a] - layer[b] || a - b);
  const perColumn = Math.ceil(count / target);
  order.forEach((item, rank) => (out[item] = Math.floor(rank / perColumn)));
}

interface Shown {
  result: WireResult;
  rootIndex: number;
  strings: GraphStrings;
  settings: ViewSettings;
  snapshot: GraphSnapshot;
  model: GraphModel;
  groups: Map<string, Group>;
  grouped: boolean;
  key: string;
}

export class GraphView {
  cy: Core | undefined;
  private shown: Shown | undefined;
  private visible: VisibleGraph | undefined;
  private controls: Controls | undefined;
  private readonly container = el("div", { id: "graph", class: "graph", tabindex: "0" });
  private readonly notice = el("div", { class: "notice", role: "status" });
  private readonly tooltip: Tooltip;
  private palette: Palette = readPalette();
  private expanded = new Set<string>();
  private collapsedFunctions = new Set<string>();
  private animation: BackwardAnimation | undefined;
  private mode: AnimationMode = "backward";
  private forwardStep = 0;
  private playing: ReturnType<typeof setInterval> | undefined;
  private matches: string[] = [];
  private matchIndex = 0;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private renderSerial = 0;
  /** Milliseconds per phase of the last render (reported by the benchmark). */
  readonly timings: Record<string, number> = {};

  constructor(
    private readonly root: HTMLElement,
    private readonly host: HostApi,
  ) {
    this.tooltip = new Tooltip(() => this.shown?.strings as GraphStrings);
    // The tooltip sits beside cytoscape's container, not in it: destroying cytoscape empties its container.
    this.root.append(this.notice, el("div", { class: "body" }, el("div", { class: "graph-area" }, this.container, this.tooltip.element)));
    // VS Code changes the body class (and the variables) when the theme changes.
    new MutationObserver(() => this.applyTheme()).observe(document.body, { attributes: true, attributeFilter: ["class", "style"] });
    document.addEventListener("keydown", (e) => this.onKey(e));
  }

  handle(message: HostMessage): void {
    switch (message.type) {
      case "showGraph":
        void this.showGraph(message.result, message.rootIndex, message.strings, message.settings);
        break;
      case "revealNode":
        this.revealNode(message.nodeId);
        break;
      case "highlightLine":
        this.highlightLine(message.file, message.line);
        break;
      case "noGraph":
        this.destroy();
        setText(this.notice, message.message);
        this.notice.hidden = false;
        break;
    }
  }

  // ---- showing a graph ------------------------------------------------------------------

  async showGraph(result: WireResult, rootIndex: number, strings: GraphStrings, settings: ViewSettings): Promise<void> {
    const started = performance.now();
    const serial = ++this.renderSerial;
    this.stop();
    const index = Math.max(0, Math.min(rootIndex, result.roots.length - 1));
    const root = result.roots[index];
    this.buildControls(strings, result, index);
    if (!root) {
      this.destroy();
      this.showNotice(result.error?.message ?? strings.empty);
      this.host.postMessage({ type: "rendered", nodeCount: 0, visibleNodes: 0, elementCount: 0, grouped: false, tooLarge: result.error?.kind === "too-large", ms: 0 });
      return;
    }
    const nodeCount = root.graph.nodeCount;
    if (nodeCount > settings.nodeLimit) {
      this.destroy();
      this.showNotice(fillIn(strings.tooLarge, nodeCount, settings.nodeLimit));
      this.host.postMessage({ type: "rendered", nodeCount, visibleNodes: 0, elementCount: 0, grouped: false, tooLarge: true, ms: performance.now() - started });
      return;
    }
    const mark = performance.now();
    const snapshot = fromWireGraph(root.graph);
    const model = buildModel(snapshot, result.sites);
    const grouped = nodeCount > settings.groupThreshold;
    const key = `${result.file}#${index}#${nodeCount}#${snapshot.data[snapshot.root]}`;
    this.shown = { result, rootIndex: index, strings, settings, snapshot, model, groups: groupsOf(model), grouped, key };
    const saved = this.host.getState();
    const restore = saved?.graphKey === key ? saved : undefined;
    this.expanded = new Set(restore?.expandedGroups ?? []);
    this.collapsedFunctions = new Set(restore?.collapsedFunctions ?? []);
    this.animation = new BackwardAnimation(snapshot);
    this.mode = restore?.animation?.mode ?? "backward";
    this.forwardStep = 0;
    if (this.controls) this.controls.mode.value = this.mode;
    const notes: string[] = [];
    if (root.truncated) notes.push(strings.truncated);
    if (grouped) notes.push(fillIn(strings.grouped, nodeCount, this.shown.groups.size));
    this.showNotice(notes.join(" "));
    this.timings.decode = performance.now() - mark;
    this.renderLegend();
    this.renderNonFinite();
    await this.render(restore);
    if (serial !== this.renderSerial) return;
    if (restore?.animation && restore.animation.step > 0) this.seek(restore.animation.step);
    if (restore?.search && this.controls) {
      this.controls.search.value = restore.search;
      this.search(restore.search, false);
    }
    this.saveState();
    const cy = this.cy;
    const report = (): void => {
      if (serial !== this.renderSerial) return;
      this.host.postMessage({
        type: "rendered",
        nodeCount,
        visibleNodes: cy?.nodes().length ?? 0,
        elementCount: cy?.elements().length ?? 0,
        grouped,
        tooLarge: false,
        ms: performance.now() - started,
      });
    };
    // "Rendered" means the first frame with the graph was drawn.
    const frameStart = performance.now();
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        this.timings.firstFrame = performance.now() - frameStart;
        report();
      }),
    );
  }

  /** (Re)builds the cytoscape instance for the current grouping; keeps the viewport when asked. */
  private async render(restore?: ViewState, keepViewport = false): Promise<void> {
    const shown = this.shown;
    if (!shown) return;
    const serial = this.renderSerial;
    const visible = visibleGraph(shown.model, shown.grouped, shown.groups, this.expanded, this.collapsedFunctions);
    let mark = performance.now();
    const { elements, layoutInput, ids } = this.elementsFor(shown, visible);
    this.timings.elements = performance.now() - mark;
    mark = performance.now();
    const positions = await layoutInWorker(layoutInput);
    this.timings.layout = performance.now() - mark;
    mark = performance.now();
    if (serial !== this.renderSerial) return;
    for (let k = 0; k < ids.length; k++) {
      const element = elements[k];
      element.position = { x: positions.x[k], y: positions.y[k] };
    }
    const previous = keepViewport && this.cy ? { zoom: this.cy.zoom(), pan: this.cy.pan() } : undefined;
    this.visible = visible;
    const size = sizeOf(elements.length);
    const large = size === "large";
    this.cy?.destroy();
    const cy = cytoscape({
      container: this.container,
      elements,
      layout: { name: "preset" },
      style: graphStyle(this.palette, size),
      pixelRatio: 1,
      minZoom: 0.02,
      maxZoom: 4,
      wheelSensitivity: 0.3,
      boxSelectionEnabled: false,
      autoungrabify: large,
      textureOnViewport: large,
      hideEdgesOnViewport: large,
      motionBlur: false,
      styleEnabled: true,
    });
    this.cy = cy;
    this.exposeForTests();
    if (previous) cy.viewport(previous);
    else if (restore?.zoom !== undefined && restore.pan) cy.viewport({ zoom: restore.zoom, pan: restore.pan });
    else this.fitInitial(cy);
    if (restore?.selected) cy.getElementById(restore.selected).select();
    this.wireEvents(cy);
    this.timings.cytoscape = performance.now() - mark;
    mark = performance.now();
    if (this.step > 0) this.refreshAnimationView();
    else this.refreshStepLabel();
    this.timings.animation = performance.now() - mark;
  }

  /** Small graphs fit the panel; big ones open on the output at a readable zoom. */
  private fitInitial(cy: Core): void {
    cy.fit(undefined, 30);
    if (cy.zoom() < 0.3 && cy.nodes().length > 150 && this.shown) {
      const output = cy.getElementById(this.visible?.representative(this.shown.snapshot.root) ?? "");
      cy.zoom(0.6);
      if (output.nonempty()) cy.center(output);
    }
  }

  private elementsFor(shown: Shown, visible: VisibleGraph): { elements: ElementDefinition[]; layoutInput: LayoutInput; ids: string[] } {
    const { model } = shown;
    const s = model.snapshot;
    const elements: ElementDefinition[] = [];
    const ids: string[] = [];
    const columns: number[] = [];
    const widths: number[] = [];
    const heights: number[] = [];
    const edgeFrom: number[] = [];
    const edgeTo: number[] = [];
    const itemIndex = new Map<string, number>();
    const addItem = (definition: ElementDefinition, column: number): void => {
      const id = definition.data.id as string;
      itemIndex.set(id, ids.length);
      ids.push(id);
      elements.push(definition);
      columns.push(column);
      widths.push(definition.data.w as number);
      heights.push(definition.data.h as number);
    };
    const edges: ElementDefinition[] = [];
    const addEdge = (from: string, to: string, data: Record<string, unknown>, classes = ""): void => {
      edges.push({ group: "edges", data: { id: `e${edges.length}`, source: from, target: to, ...data }, classes });
    };
    if (!visible.grouped && s.nodeCount > opNodeLimit) {
      // Op as a badge in the value's label: half the nodes and a third fewer edges.
      for (const i of visible.nodes) {
        addItem(this.valueNode(model, i, true), model.layer[i]);
        for (let e = s.childStart[i]; e < s.childStart[i + 1]; e++) addEdge(nodeElementId(s.child[e]), nodeElementId(i), { edge: e });
      }
    } else if (!visible.grouped) {
      const labels = s.nodeCount <= edgeLabelLimit;
      for (const i of visible.nodes) {
        addItem(this.valueNode(model, i), 2 * model.layer[i]);
        if (s.childStart[i + 1] > s.childStart[i]) {
          const op = opOf(model, i);
          addItem({ group: "nodes", data: { id: `o${i}`, label: op, w: Math.max(28, op.length * charWidth + 14), h: 28, op: i }, classes: "op" }, 2 * model.layer[i] - 1);
          addEdge(`o${i}`, nodeElementId(i), {});
          for (let e = s.childStart[i]; e < s.childStart[i + 1]; e++) {
            addEdge(nodeElementId(s.child[e]), `o${i}`, labels ? { label: formatNumber(s.localGrad[e]), edge: e } : { edge: e });
          }
        }
      }
    } else {
      // Columns of grouped items: the mean layer of their members, then numbered densely.
      const rawColumn: number[] = [];
      const meanLayer = (members: number[]): number => {
        let sum = 0;
        for (const i of members) sum += model.layer[i];
        return Math.round(sum / members.length);
      };
      for (const f of visible.functions) {
        const members = f.groups.flatMap((g) => g.members);
        addItem(this.functionNode(model, f.name, f.groups, members), 0);
        rawColumn.push(meanLayer(members));
      }
      for (const g of visible.groups) {
        addItem(this.groupNode(model, g), 0);
        rawColumn.push(meanLayer(g.members));
      }
      for (const i of visible.nodes) {
        addItem(this.valueNode(model, i, true), 0);
        rawColumn.push(model.layer[i]);
      }
      packColumns(rawColumn, columns);
      for (const e of visible.edges) {
        addEdge(e.from, e.to, { weight: Math.min(8, 1 + Math.log2(e.count)), count: e.count }, "merged");
      }
    }
    for (const edge of edges) {
      const from = itemIndex.get(edge.data.source as string);
      const to = itemIndex.get(edge.data.target as string);
      if (from !== undefined && to !== undefined) {
        edgeFrom.push(from);
        edgeTo.push(to);
      }
    }
    const layoutInput: LayoutInput = {
      count: ids.length,
      column: Int32Array.from(columns),
      edgeFrom: Int32Array.from(edgeFrom),
      edgeTo: Int32Array.from(edgeTo),
      width: Float32Array.from(widths),
      height: Float32Array.from(heights),
      gapX: visible.grouped ? 90 : 40,
      gapY: 14,
      sweeps: ids.length > 20000 ? 2 : 4,
    };
    return { elements: elements.concat(edges), layoutInput, ids };
  }

  private valueNode(model: GraphModel, i: number, withOp = false): ElementDefinition {
    const label = this.valueLabel(model, i, withOp);
    return {
      group: "nodes",
      data: { id: nodeElementId(i), label, w: label.length * charWidth + 16, h: nodeHeight, node: i },
      classes: this.nodeClasses(model, i, model.snapshot.grad[i]),
    };
  }

  private nodeClasses(model: GraphModel, i: number, grad: number): string {
    const s = model.snapshot;
    const bucket = gradBucket(model, grad);
    const nonFinite = !Number.isFinite(s.data[i]) || !Number.isFinite(grad);
    return `value ${roleOf(model, i)}${bucket >= 0 ? ` b${bucket}` : ""}${nonFinite ? " nonfinite" : ""}`;
  }

  /** micrograd's record, on one line: `{ label | data 7.0000 | grad 1.0000 }`. */
  private valueLabel(model: GraphModel, i: number, withOp: boolean, grad?: number, dataKnown = true): string {
    const s = model.snapshot;
    const t = this.shown?.strings;
    const name = nameOf(model, i);
    const op = withOp ? opOf(model, i) : "";
    const head = [op ? `${op} ·` : "", name].filter((x) => x).join(" ");
    const data = dataKnown ? formatNumber(s.data[i]) : "?";
    const shownGrad = grad ?? s.grad[i];
    const warn = !Number.isFinite(s.data[i]) || !Number.isFinite(shownGrad) ? "⚠ " : "";
    return `${warn}${head ? `${head} | ` : ""}${t?.data ?? "data"} ${data} | ${t?.grad ?? "grad"} ${formatNumber(shownGrad)}`;
  }

  private groupNode(model: GraphModel, g: Group): ElementDefinition {
    const title = this.groupTitle(model, g);
    const label = `${title}\n×${g.members.length}`;
    const width = Math.min(260, Math.max(80, title.length * charWidth + 20));
    return {
      group: "nodes",
      data: { id: groupElementId(g.key), label, w: width, h: Math.ceil((title.length * charWidth) / 240 + 1) * 16 + 18, group: g.key },
      classes: `group${this.groupClasses(model, g.members)}`,
    };
  }

  private functionNode(model: GraphModel, name: string, groups: Group[], members: number[]): ElementDefinition {
    const label = `ƒ ${name}()\n${groups.length} × ${members.length}`;
    return {
      group: "nodes",
      data: { id: functionElementId(name), label, w: Math.max(100, name.length * charWidth + 40), h: 46, fn: name },
      classes: `group function${this.groupClasses(model, members)}`,
    };
  }

  private groupClasses(model: GraphModel, members: number[]): string {
    const s = model.snapshot;
    let maxGrad = 0;
    let nonFinite = false;
    let output = false;
    let leaves = true;
    for (const i of members) {
      const g = s.grad[i];
      if (!Number.isFinite(g) || !Number.isFinite(s.data[i])) nonFinite = true;
      else maxGrad = Math.max(maxGrad, Math.abs(g));
      if (i === s.root) output = true;
      if (s.childStart[i + 1] > s.childStart[i]) leaves = false;
    }
    const bucket = gradBucket(model, maxGrad);
    return `${bucket >= 0 ? ` b${bucket}` : ""}${nonFinite ? " nonfinite" : ""}${output ? " output" : leaves ? " leaf" : ""}`;
  }

  private groupTitle(model: GraphModel, g: Group): string {
    const site = g.site > 0 ? model.sites[g.site] : undefined;
    if (!site) return g.key.slice(1) === "leaf" ? "constants" : g.key.slice(1);
    const text = site.binding ? `${site.binding} = ${site.text}` : site.text;
    return `${text.length > 60 ? `${text.slice(0, 57)}…` : text}  :${site.line}`;
  }

  // ---- interaction --------------------------------------------------------------------

  private wireEvents(cy: Core): void {
    cy.on("mouseover", "node", (e: EventObject) => this.hover(e.target as NodeSingular, e.renderedPosition));
    cy.on("mouseout", "node", () => this.tooltip.hide());
    cy.on("viewport", () => {
      this.tooltip.hide();
      this.saveStateSoon();
    });
    cy.on("tap", "node", (e: EventObject) => this.reveal(e.target as NodeSingular));
    cy.on("dbltap", "node", (e: EventObject) => this.toggleGroup(e.target as NodeSingular, true));
    cy.on("cxttap", "node", (e: EventObject) => this.toggleGroup(e.target as NodeSingular, false));
    cy.on("select unselect", "node", () => this.saveStateSoon());
  }

  private hover(node: NodeSingular, at: { x: number; y: number }): void {
    const shown = this.shown;
    if (!shown) return;
    const data = node.data() as { node?: number; group?: string; fn?: string; op?: number };
    let rows: HTMLElement[] | undefined;
    const animated = this.animation && this.mode === "backward" && this.animation.step > 0 ? this.animation : undefined;
    if (data.node !== undefined) rows = this.tooltip.nodeRows(shown.model, data.node, animated?.grad[data.node]);
    else if (data.op !== undefined) rows = this.tooltip.nodeRows(shown.model, data.op, animated?.grad[data.op]);
    else if (data.group !== undefined) {
      const g = shown.groups.get(data.group);
      if (g) rows = this.tooltip.groupRows(shown.model, g, this.groupTitle(shown.model, g));
    } else if (data.fn !== undefined) {
      const members = [...shown.groups.values()].filter((g) => g.functionName === data.fn);
      const merged: Group = { key: `f${data.fn}`, members: members.flatMap((g) => g.members), site: members[0]?.site ?? 0, functionName: data.fn };
      rows = this.tooltip.groupRows(shown.model, merged, `ƒ ${data.fn}()`);
    }
    if (rows) this.tooltip.showAt(at.x, at.y, rows);
  }

  /** Click: the editor shows the line that made the node. */
  private reveal(node: NodeSingular): void {
    const shown = this.shown;
    if (!shown) return;
    const data = node.data() as { node?: number; group?: string; op?: number; fn?: string };
    let siteId = 0;
    if (data.node !== undefined) siteId = shown.snapshot.site[data.node];
    else if (data.op !== undefined) siteId = shown.snapshot.site[data.op];
    else if (data.group !== undefined) siteId = shown.groups.get(data.group)?.site ?? 0;
    else if (data.fn !== undefined) siteId = [...shown.groups.values()].find((g) => g.functionName === data.fn)?.site ?? 0;
    const site = siteId > 0 ? shown.result.sites[siteId] : undefined;
    if (site) this.host.postMessage({ type: "revealSource", file: site.file, line: site.line, column: site.column });
  }

  /** Double-click expands (function → its expressions → their instances); right-click folds back. */
  private toggleGroup(node: NodeSingular, expand: boolean): void {
    const shown = this.shown;
    if (!shown?.grouped) return;
    const data = node.data() as { node?: number; group?: string; fn?: string };
    let changed = false;
    if (expand && data.fn !== undefined) changed = this.collapsedFunctions.delete(data.fn);
    else if (expand && data.group !== undefined) {
      const g = shown.groups.get(data.group);
      if (g && g.members.length <= maxExpandable) {
        this.expanded.add(data.group);
        changed = true;
      } else if (g) {
        this.showNotice(`${this.groupTitle(shown.model, g)}: ${g.members.length} ${shown.strings.instances} > ${maxExpandable}`);
      }
    } else if (!expand && data.node !== undefined) {
      changed = this.expanded.delete(groupKeyOf(shown.model, data.node));
    } else if (!expand && data.group !== undefined) {
      const fn = shown.groups.get(data.group)?.functionName;
      if (fn !== undefined) {
        this.collapsedFunctions.add(fn);
        changed = true;
      }
    }
    if (!changed) return;
    void this.render(undefined, true).then(() => {
      // Keep the zoom, but bring the unfolded instances into view.
      const cy = this.cy;
      if (cy && expand && data.group !== undefined) {
        const unfolded = cy.nodes(".value");
        const box = unfolded.renderedBoundingBox({});
        if (box.w > cy.width() || box.h > cy.height()) cy.fit(unfolded, 40);
        else cy.center(unfolded);
      }
      this.saveState();
    });
  }

  expandGroup(key: string): Promise<void> {
    this.expanded.add(key);
    return this.render(undefined, true).then(() => this.saveState());
  }

  setAllFunctionsCollapsed(collapsed: boolean): Promise<void> {
    const shown = this.shown;
    if (!shown?.grouped) return Promise.resolve();
    this.collapsedFunctions.clear();
    if (collapsed) {
      for (const g of shown.groups.values()) if (g.functionName !== undefined) this.collapsedFunctions.add(g.functionName);
    } else {
      this.expanded.clear();
    }
    return this.render(undefined, true).then(() => this.saveState());
  }

  /** The node from the editor's "Show in graph": unfold its group if needed, select and centre it. */
  revealNode(nodeId: number): void {
    const shown = this.shown;
    if (!shown || nodeId < 0 || nodeId >= shown.snapshot.nodeCount) return;
    const finish = (): void => {
      const cy = this.cy;
      const id = this.visible?.representative(nodeId);
      if (!cy || !id) return;
      const node = cy.getElementById(id);
      cy.nodes(":selected").unselect();
      node.select();
      cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 0.8) }, { duration: 250 });
    };
    if (shown.grouped) {
      const key = groupKeyOf(shown.model, nodeId);
      const g = shown.groups.get(key);
      let changed = false;
      if (g?.functionName !== undefined && this.collapsedFunctions.delete(g.functionName)) changed = true;
      if (g && g.members.length <= maxExpandable && !this.expanded.has(key)) {
        this.expanded.add(key);
        changed = true;
      }
      if (changed) {
        void this.render(undefined, true).then(finish);
        return;
      }
    }
    finish();
  }

  /** Cursor in the editor: the nodes made on that line light up. */
  highlightLine(file: string, line: number): void {
    const cy = this.cy;
    const shown = this.shown;
    const visible = this.visible;
    if (!cy || !shown || !visible) return;
    const ids = new Set<string>();
    for (const g of shown.groups.values()) {
      const site = g.site > 0 ? shown.result.sites[g.site] : undefined;
      if (!site || site.file !== file || line < site.line || line > site.endLine) continue;
      for (const i of g.members) ids.add(visible.representative(i));
    }
    cy.batch(() => {
      cy.nodes(".line-hit").removeClass("line-hit");
      for (const id of ids) cy.getElementById(id).addClass("line-hit");
    });
  }

  search(query: string, move = true): number {
    const cy = this.cy;
    const shown = this.shown;
    const visible = this.visible;
    if (!cy || !shown || !visible || !this.controls) return 0;
    const q = query.trim().toLowerCase();
    const ids: string[] = [];
    if (q) {
      const seen = new Set<string>();
      for (let i = 0; i < shown.snapshot.nodeCount; i++) {
        if (!nameOf(shown.model, i).toLowerCase().includes(q)) continue;
        const id = visible.representative(i);
        if (!seen.has(id)) {
          seen.add(id);
          ids.push(id);
        }
      }
    }
    this.matches = ids;
    this.matchIndex = 0;
    cy.batch(() => {
      cy.nodes(".match").removeClass("match");
      for (const id of ids) cy.getElementById(id).addClass("match");
    });
    setText(this.controls.searchCount, q ? (ids.length > 0 ? `1/${ids.length}` : shown.strings.noMatch) : "");
    if (move && ids.length > 0) this.focusMatch();
    this.saveStateSoon();
    return ids.length;
  }

  private focusMatch(): void {
    const cy = this.cy;
    if (!cy || this.matches.length === 0 || !this.controls) return;
    const node = cy.getElementById(this.matches[this.matchIndex]);
    setText(this.controls.searchCount, `${this.matchIndex + 1}/${this.matches.length}`);
    cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 0.8) }, { duration: 200 });
  }

  // ---- animation ------------------------------------------------------------------------

  private get stepCount(): number {
    const s = this.shown?.snapshot;
    if (!s) return 0;
    return this.mode === "backward" ? s.nodeCount + 1 : s.nodeCount;
  }

  get step(): number {
    return this.mode === "backward" ? (this.animation?.step ?? 0) : this.forwardStep;
  }

  seek(target: number): void {
    const clamped = Math.max(0, Math.min(target, this.stepCount));
    if (this.mode === "backward") this.animation?.seek(clamped);
    else this.forwardStep = clamped;
    this.refreshAnimationView();
    this.saveStateSoon();
  }

  setMode(mode: AnimationMode): void {
    this.stop();
    this.animation?.reset();
    this.forwardStep = 0;
    this.mode = mode;
    if (this.controls) this.controls.mode.value = mode;
    this.refreshAnimationView();
    this.saveStateSoon();
  }

  togglePlay(): void {
    if (this.playing) {
      this.stop();
      return;
    }
    if (this.step >= this.stepCount) this.seek(0);
    const speed = speeds[Number(this.controls?.speed.value ?? 2)] ?? 2;
    this.playing = setInterval(() => {
      if (this.step >= this.stepCount) this.stop();
      else this.seek(this.step + 1);
    }, 1000 / speed);
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

  /** Shows the current step: labels with the grads (or values) known so far, the active node, the trace. */
  private refreshAnimationView(): void {
    const cy = this.cy;
    const shown = this.shown;
    const visible = this.visible;
    if (!cy || !shown || !visible || !this.controls) return;
    const { model } = shown;
    const s = model.snapshot;
    const step = this.step;
    const running = step > 0;
    const backward = this.mode === "backward";
    const animation = this.animation;
    const active = !running ? undefined : backward ? animation?.last.active : step - 1;
    const targets = new Set<number>(backward && running ? (animation?.last.pushes.map((p) => p.child) ?? []) : []);
    cy.batch(() => {
      cy.elements(".anim-active, .anim-target, .anim-edge, .anim-hidden").removeClass("anim-active anim-target anim-edge anim-hidden");
      for (const i of visible.nodes) {
        const node = cy.getElementById(nodeElementId(i));
        const grad = running && backward && animation ? animation.grad[i] : s.grad[i];
        const known = !running || backward || i < step;
        node.data("label", this.valueLabel(model, i, visible.grouped || s.nodeCount > opNodeLimit, grad, known));
        node.classes(this.nodeClasses(model, i, grad));
        if (!known) node.addClass("anim-hidden");
      }
      if (active !== undefined) {
        const activeNode = cy.getElementById(visible.representative(active));
        activeNode.addClass("anim-active");
        for (const c of targets) cy.getElementById(visible.representative(c)).addClass("anim-target");
        const opNode = cy.getElementById(`o${active}`);
        (opNode.nonempty() ? opNode.connectedEdges() : activeNode.incomers("edge")).addClass("anim-edge");
      }
    });
    this.refreshStepLabel();
  }

  private refreshStepLabel(): void {
    if (!this.controls) return;
    setText(this.controls.stepLabel, `${this.step}/${this.stepCount}`);
    this.controls.trace.replaceChildren(...this.traceLines());
  }

  /** The trace, like the tutorial's hand computation: `x.grad += 3.0000 × 1.0000 = 3.0000`. */
  private traceLines(): HTMLElement[] {
    const shown = this.shown;
    const animation = this.animation;
    if (!shown || !animation) return [];
    const { model, strings } = shown;
    const s = model.snapshot;
    const step = this.step;
    if (step === 0) return [];
    const name = (i: number): string => nameOf(model, i) || `#${i}`;
    if (this.mode === "forward") {
      const i = step - 1;
      const op = opOf(model, i);
      const inputs: string[] = [];
      for (let e = s.childStart[i]; e < s.childStart[i + 1]; e++) inputs.push(name(s.child[e]));
      const text = op ? `${op}(${inputs.join(", ")})` : formatNumber(s.data[i]);
      const lines = [el("div", { class: "trace-head" }, fillIn(strings.forwardStep, step, s.nodeCount, name(i), text)), el("div", { class: "trace-line" }, `${name(i)}.data = ${formatNumber(s.data[i])}`)];
      if (step === s.nodeCount) lines.push(el("div", { class: "trace-done" }, strings.forwardDone));
      return lines;
    }
    const last = animation.last;
    if (step === 1) return [el("div", { class: "trace-head" }, `${step}/${this.stepCount}`), el("div", { class: "trace-line" }, fillIn(strings.backwardStart, name(s.root)))];
    const v = last.active as number;
    const op = opOf(model, v);
    const lines = [el("div", { class: "trace-head" }, `${step}/${this.stepCount} · ${name(v)}${op ? ` (${op})` : ""} · grad ${formatNumber(animation.grad[v])}`)];
    for (const p of last.pushes) {
      lines.push(el("div", { class: "trace-line" }, `${name(p.child)}.grad += ${formatNumber(p.local)} × ${formatNumber(p.parentGrad)} = ${formatNumber(p.after)}`));
    }
    if (last.pushes.length === 0) lines.push(el("div", { class: "trace-line" }, `${name(v)}: ${strings.leaf}`));
    if (step === this.stepCount) lines.push(el("div", { class: "trace-done" }, strings.backwardDone));
    return lines;
  }

  // ---- export ---------------------------------------------------------------------------

  exportImage(format: "png" | "svg"): string | undefined {
    const cy = this.cy;
    if (!cy) return undefined;
    const bg = this.palette.background;
    const data = format === "png"
      ? cy.png({ output: "base64uri", full: true, bg, maxWidth: 8000, maxHeight: 8000 })
      : graphToSvg(cy, bg);
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

  // ---- chrome: toolbar, legend, notices, theme, state -------------------------------------

  private buildControls(strings: GraphStrings, result: WireResult, rootIndex: number): void {
    if (!this.controls) {
      const c = buildControls(strings);
      this.controls = c;
      this.root.prepend(c.toolbar);
      this.root.querySelector(".body")?.append(c.side);
      c.rootSelect.addEventListener("change", () => {
        const index = Number(c.rootSelect.value);
        const shown = this.shown;
        if (!shown) return;
        this.host.postMessage({ type: "state", state: { rootIndex: index, expandedGroups: [], collapsedFunctions: [] } });
        void this.showGraph(shown.result, index, shown.strings, shown.settings);
      });
      c.mode.addEventListener("change", () => this.setMode(c.mode.value === "forward" ? "forward" : "backward"));
      c.reset.addEventListener("click", () => {
        this.stop();
        this.seek(0);
      });
      c.stepBack.addEventListener("click", () => this.seek(this.step - 1));
      c.play.addEventListener("click", () => this.togglePlay());
      c.step.addEventListener("click", () => this.seek(this.step + 1));
      c.speed.addEventListener("change", () => {
        if (this.playing) {
          this.stop();
          this.togglePlay();
        }
      });
      c.fit.addEventListener("click", () => this.cy?.fit(undefined, 30));
      c.search.addEventListener("input", () => this.search(c.search.value));
      c.search.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && this.matches.length > 0) {
          this.matchIndex = (this.matchIndex + (e.shiftKey ? this.matches.length - 1 : 1)) % this.matches.length;
          this.focusMatch();
        }
      });
      c.expandAll.addEventListener("click", () => void this.setAllFunctionsCollapsed(false));
      c.collapseAll.addEventListener("click", () => void this.setAllFunctionsCollapsed(true));
      c.exportPng.addEventListener("click", () => this.exportImage("png"));
      c.exportSvg.addEventListener("click", () => this.exportImage("svg"));
      c.exportDot.addEventListener("click", () => this.exportDot());
    }
    const c = this.controls;
    c.rootSelect.replaceChildren(...result.roots.map((r, k) => el("option", { value: String(k) }, `${r.name} (${r.graph.nodeCount})`)));
    c.rootSelect.value = String(rootIndex);
    c.rootSelect.hidden = result.roots.length < 2;
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement | null;
    if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) return;
    if (target?.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) return;
    const actions: Record<string, () => void> = {
      " ": () => this.togglePlay(),
      ArrowRight: () => this.seek(this.step + 1),
      ArrowLeft: () => this.seek(this.step - 1),
      Home: () => this.seek(0),
      End: () => this.seek(this.stepCount),
      "/": () => this.controls?.search.focus(),
    };
    const action = actions[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }

  private renderLegend(): void {
    const shown = this.shown;
    if (!shown || !this.controls) return;
    const t = shown.strings;
    const [lo, hi] = shown.model.logGradRange;
    const swatches = el("div", { class: "legend-ramp" });
    for (let b = 0; b < gradBuckets; b++) {
      const from = lo + ((hi - lo) * b) / gradBuckets;
      swatches.append(el("span", { class: `swatch b${b}`, title: `≥ 1e${from.toFixed(1)}` }));
    }
    this.controls.legend.replaceChildren(
      el("h3", {}, t.legendTitle),
      swatches,
      el("div", { class: "legend-scale" }, el("span", {}, `1e${lo.toFixed(1)}`), el("span", {}, `1e${hi.toFixed(1)}`)),
      el("div", { class: "legend-item" }, el("span", { class: "shape leaf" }), t.legendLeaf),
      el("div", { class: "legend-item" }, el("span", { class: "shape intermediate" }), t.legendIntermediate),
      el("div", { class: "legend-item" }, el("span", { class: "shape output" }), t.legendOutput),
      el("div", { class: "legend-item" }, el("span", { class: "shape nonfinite" }), t.legendNonFinite),
    );
    this.applyLegendColours();
  }

  /** The ramp's swatches take the palette's colours (element styles are allowed by the CSP; style tags are not). */
  private applyLegendColours(): void {
    this.controls?.legend.querySelectorAll<HTMLElement>(".swatch").forEach((swatch, b) => {
      swatch.style.backgroundColor = this.palette.bucketBorders[b];
    });
  }

  private renderNonFinite(): void {
    const shown = this.shown;
    if (!shown || !this.controls) return;
    const { model } = shown;
    const list = model.nonFinite;
    this.controls.nonFiniteSection.hidden = list.length === 0;
    const shownItems = list.slice(0, 200).map((i) => {
      const s = model.snapshot;
      const text = `${nameOf(model, i) || `#${i}`} (${opOf(model, i) || shown.strings.leaf}): ${shown.strings.data} ${formatNumber(s.data[i])}, ${shown.strings.grad} ${formatNumber(s.grad[i])}`;
      const item = el("button", { type: "button", class: "nonfinite-item", "data-node": String(i) }, text);
      item.addEventListener("click", () => {
        this.revealNode(i);
        const site = s.site[i] > 0 ? shown.result.sites[s.site[i]] : undefined;
        if (site) this.host.postMessage({ type: "revealSource", file: site.file, line: site.line, column: site.column });
      });
      return el("li", {}, item);
    });
    if (list.length > 200) shownItems.push(el("li", {}, `… +${list.length - 200}`));
    this.controls.nonFiniteList.replaceChildren(...shownItems);
  }

  private showNotice(text: string): void {
    setText(this.notice, text);
    this.notice.hidden = text === "";
  }

  private applyTheme(): void {
    this.palette = readPalette();
    const cy = this.cy;
    if (cy) cy.style(graphStyle(this.palette, sizeOf(cy.elements().length)));
    this.applyLegendColours();
  }

  private saveStateSoon(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.saveState(), 200);
  }

  saveState(): void {
    const shown = this.shown;
    const cy = this.cy;
    if (!shown) return;
    const selected = cy?.nodes(":selected").first();
    const state: ViewState = {
      rootIndex: shown.rootIndex,
      graphKey: shown.key,
      zoom: cy?.zoom(),
      pan: cy?.pan(),
      selected: selected && selected.nonempty() ? selected.id() : undefined,
      expandedGroups: [...this.expanded],
      collapsedFunctions: [...this.collapsedFunctions],
      animation: { mode: this.mode, step: this.step },
      search: this.controls?.search.value || undefined,
    };
    this.host.setState(state);
  }

  private destroy(): void {
    this.stop();
    this.cy?.destroy();
    this.cy = undefined;
    this.shown = undefined;
    this.visible = undefined;
  }

  private exposeForTests(): void {
    (window as unknown as { gradlensView?: GraphView }).gradlensView = this;
  }

  /** Test hook: the visible graph and model, for checks from the test page. */
  get current(): { model: GraphModel; visible: VisibleGraph; grouped: boolean } | undefined {
    return this.shown && this.visible ? { model: this.shown.model, visible: this.visible, grouped: this.shown.grouped } : undefined;
  }

  /** Test hook: whether the layout ran in its Web Worker (not the UI thread). */
  get layoutRanInWorker(): boolean {
    return layoutUsesWorker();
  }

  get animationGrads(): Float64Array | undefined {
    return this.animation?.grad;
  }
}
