/**
 * The one owner of cytoscape: shows a level, sets the first view so labels are readable, zooms
 * (buttons, keys, the wheel at a sensible rate), fits again when the panel is resized unless the
 * user moved the view, and reports what the user does to the elements.
 *
 * Speed: cytoscape's cost is per element (style, label size, edge geometry: about 0.3–0.6 ms each
 * here), so a 1,000-node level took ~2 s before anything showed. The first view is worked out from
 * the layout's own boxes before cytoscape sees an element, only what it shows (and the edges
 * leaving it) goes in first, and the rest follows in small slices between frames, nearest first.
 * One instance serves every level (no new canvases and stylesheet per opened group).
 */
import cytoscape from "cytoscape";
import type { Core, CytoscapeOptions, ElementDefinition, EventObject, NodeSingular } from "cytoscape";
import { fontSize } from "./elements";
import { graphStyle, type GraphSize, type Palette } from "./theme";

/** Zoom at which labels are at least 11 CSS px. */
export const readableZoom = 11 / fontSize;
/** Per wheel notch (100 px of delta): about 15 %. */
const wheelRate = 0.0015;
const buttonStep = 1.25;
const padding = 24;
const minZoom = 0.02;
/** How far (rendered px) the first view of a wide level may move its output from the right edge to cut between columns. */
const maxCutShift = 200;
const maxZoom = 4;
/**
 * Elements in the first view's slice at most, then per later slice, doubling: every slice costs a
 * redraw of what is already in, so a few growing slices beat many small ones.
 */
const sliceSize = 250;

export interface CanvasEvents {
  hover(node: NodeSingular, at: { x: number; y: number }): void;
  leave(): void;
  tap(node: NodeSingular): void;
  open(node: NodeSingular): void;
  close(node: NodeSingular): void;
  viewport(): void;
}

/** A node's box in model coordinates (centre and size), as the layout placed it. */
export interface NodeBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Bounds {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface Viewport {
  zoom: number;
  pan: { x: number; y: number };
}

/** Cytoscape's options for the view (warmup.ts warms its code with the same ones). */
export function canvasOptions(large: boolean): CytoscapeOptions {
  return {
    layout: { name: "preset" },
    pixelRatio: 1,
    minZoom,
    maxZoom,
    // The wheel is ours (onWheel): cytoscape's rate depends on the platform's wheel deltas.
    userZoomingEnabled: false,
    boxSelectionEnabled: false,
    autoungrabify: large,
    textureOnViewport: large,
    hideEdgesOnViewport: large,
    motionBlur: false,
  };
}

export function sizeOf(elementCount: number): GraphSize {
  return elementCount > 4000 ? "large" : elementCount > 400 ? "medium" : "small";
}

function boxOf(e: ElementDefinition): NodeBox {
  return { x: e.position?.x ?? 0, y: e.position?.y ?? 0, w: e.data.w as number, h: e.data.h as number };
}

function boundsOf(boxes: readonly NodeBox[]): Bounds {
  const b = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
  for (const n of boxes) {
    b.x1 = Math.min(b.x1, n.x - n.w / 2);
    b.y1 = Math.min(b.y1, n.y - n.h / 2);
    b.x2 = Math.max(b.x2, n.x + n.w / 2);
    b.y2 = Math.max(b.y2, n.y + n.h / 2);
  }
  return boxes.length > 0 ? b : { x1: 0, y1: 0, x2: 0, y2: 0 };
}

const nextTask = (): Promise<void> => new Promise((done) => setTimeout(done, 0));

export class Canvas {
  cy: Core | undefined;
  /** The user zoomed or panned: a resize keeps the view. */
  moved = false;
  /** Resolves when every element of the shown level is in cytoscape. */
  ready: Promise<void> = Promise.resolve();
  /** The shown level's node boxes and their bounds (the overview draws them). */
  boxes: NodeBox[] = [];
  bounds: Bounds = { x1: 0, y1: 0, x2: 0, y2: 0 };
  private focus: NodeBox | undefined;
  private size: GraphSize | undefined;
  private palette: Palette | undefined;
  private large = false;
  private serial = 0;

  constructor(
    readonly container: HTMLElement,
    private readonly events: CanvasEvents,
  ) {
    container.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    // Dragging the background pans: that is the user moving the view.
    container.addEventListener("pointerdown", () => {
      const start = this.cy?.pan();
      const up = (): void => {
        const end = this.cy?.pan();
        if (start && end && (start.x !== end.x || start.y !== end.y)) this.moved = true;
        window.removeEventListener("pointerup", up);
      };
      window.addEventListener("pointerup", up);
    });
    new ResizeObserver(() => this.onResize()).observe(container);
  }

  /**
   * Replaces the graph (elements with positions, nodes before edges); `focusId` is what a big
   * level's first view centres on (the output). The first view is drawn on return; `ready`
   * resolves when the rest is in.
   */
  show(elements: ElementDefinition[], palette: Palette, focusId: string | undefined, viewport?: Viewport): Core {
    const serial = ++this.serial;
    const nodes = elements.filter((e) => e.group === "nodes");
    const edges = elements.filter((e) => e.group === "edges");
    this.boxes = nodes.map(boxOf);
    this.bounds = boundsOf(this.boxes);
    const focusIndex = focusId === undefined ? -1 : nodes.findIndex((e) => e.data.id === focusId);
    this.focus = focusIndex >= 0 ? this.boxes[focusIndex] : undefined;
    const cy = this.instance(palette, sizeOf(elements.length));
    if (!viewport) this.moved = false;
    const view = viewport ?? this.firstViewport(cy);
    const { first, rest } = this.firstSlice(cy, nodes, edges, view);
    cy.batch(() => {
      cy.elements().remove();
      cy.add(first);
    });
    cy.viewport(view);
    this.ready = rest.length > 0 ? this.addLater(cy, rest, serial) : Promise.resolve();
    return cy;
  }

  restyle(palette: Palette): void {
    this.palette = palette;
    if (this.cy && this.size) this.cy.style(graphStyle(palette, this.size));
  }

  /**
   * A level that fits at a readable size is fitted (enlarged up to 100 %); a bigger one opens at
   * a readable zoom on its output, the output near the right edge where the picture ends.
   */
  firstView(): void {
    const cy = this.cy;
    if (cy && cy.width() > 0) cy.viewport(this.firstViewport(cy));
  }

  /** The whole level in view, enlarged at most to 100 % (the view then follows resizes again). */
  fit(): void {
    this.moved = false;
    const cy = this.cy;
    if (cy) cy.viewport(this.fitted(cy, 1));
  }

  zoomBy(factor: number, at?: { x: number; y: number }): void {
    const cy = this.cy;
    if (!cy) return;
    this.moved = true;
    const level = Math.max(cy.minZoom(), Math.min(cy.maxZoom(), cy.zoom() * factor));
    cy.zoom({ level, renderedPosition: at ?? { x: cy.width() / 2, y: cy.height() / 2 } });
  }

  zoomIn(): void {
    this.zoomBy(buttonStep);
  }

  zoomOut(): void {
    this.zoomBy(1 / buttonStep);
  }

  /** 100 %: labels at their own size, around the middle of the view. */
  zoomReset(): void {
    const cy = this.cy;
    if (cy) this.zoomBy(1 / cy.zoom());
  }

  /** Centres an element at a readable zoom (search results, "Show in graph"). */
  reveal(id: string): void {
    const cy = this.cy;
    const node = cy?.getElementById(id);
    if (!cy || !node || node.empty()) return;
    this.moved = true;
    cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1) }, { duration: 200 });
  }

  destroy(): void {
    this.serial++;
    this.cy?.destroy();
    this.cy = undefined;
    this.size = undefined;
  }

  /** The instance, kept across levels; made anew only when a big level needs other renderer options. */
  private instance(palette: Palette, size: GraphSize): Core {
    const large = size === "large";
    if (this.cy && this.large !== large) this.destroy();
    this.large = large;
    if (!this.cy) {
      const cy = cytoscape({ ...canvasOptions(large), container: this.container, elements: [], style: graphStyle(palette, size) });
      cy.on("mouseover", "node", (e: EventObject) => this.events.hover(e.target as NodeSingular, e.renderedPosition));
      cy.on("mouseout", "node", () => this.events.leave());
      cy.on("tap", "node", (e: EventObject) => this.events.tap(e.target as NodeSingular));
      cy.on("dbltap", "node", (e: EventObject) => this.events.open(e.target as NodeSingular));
      cy.on("cxttap", "node", (e: EventObject) => this.events.close(e.target as NodeSingular));
      cy.on("viewport", () => this.events.viewport());
      this.cy = cy;
    } else if (this.size !== size || this.palette !== palette) {
      this.cy.style(graphStyle(palette, size));
    }
    this.size = size;
    this.palette = palette;
    return this.cy;
  }

  /** The level fitted with padding, at most `limit` zoom, centred. */
  private fitted(cy: Core, limit: number): Viewport {
    const b = this.bounds;
    const w = Math.max(1, b.x2 - b.x1);
    const h = Math.max(1, b.y2 - b.y1);
    const fit = Math.min((cy.width() - 2 * padding) / w, (cy.height() - 2 * padding) / h);
    return this.centredAt(cy, Math.max(minZoom, Math.min(limit, maxZoom, fit)));
  }

  private firstViewport(cy: Core): Viewport {
    const fitted = this.fitted(cy, Infinity);
    if (fitted.zoom > 1) return this.fitted(cy, 1);
    if (fitted.zoom >= readableZoom) return fitted;
    const f = this.focus;
    if (!f) return this.centredAt(cy, 1);
    const right = f.x + f.w / 2;
    const { zoom, shift } = this.cutBetweenNodes(cy.width(), right);
    return { zoom, pan: { x: cy.width() - padding - shift - right * zoom, y: cy.height() / 2 - f.y * zoom } };
  }

  /**
   * A level too wide to fit readably shows its output end; the panel's left edge then cuts the
   * picture somewhere. It should cut between columns, not through a node's box (no half-nodes on
   * screen): the largest readable zoom (100 % down to `readableZoom`) that does so, else at 100 % the
   * smallest move of the output away from the right edge (at most a column's width) that does.
   */
  private cutBetweenNodes(width: number, right: number): { zoom: number; shift: number } {
    const clearance = 4; // rendered px between the edge and the nearest box
    const clear = (zoom: number, shift: number): boolean => {
      const edge = right - (width - padding - shift) / zoom; // the world x at the panel's left edge
      const margin = clearance / zoom;
      return !this.boxes.some((b) => b.x - b.w / 2 < edge + margin && b.x + b.w / 2 > edge - margin);
    };
    const steps = 48;
    for (let k = 0; k <= steps; k++) {
      const zoom = 1 - ((1 - readableZoom) * k) / steps;
      if (clear(zoom, 0)) return { zoom, shift: 0 };
    }
    for (let shift = 4; shift <= maxCutShift; shift += 4) if (clear(1, shift)) return { zoom: 1, shift };
    return { zoom: 1, shift: 0 };
  }

  private centredAt(cy: Core, zoom: number): Viewport {
    const b = this.bounds;
    return { zoom, pan: { x: cy.width() / 2 - ((b.x1 + b.x2) / 2) * zoom, y: cy.height() / 2 - ((b.y1 + b.y2) / 2) * zoom } };
  }

  /**
   * What the first view shows (nodes within half a screen of it), the edges touching those nodes
   * and their other ends; the rest ordered nearest first, each edge right after its later end.
   */
  private firstSlice(cy: Core, nodes: ElementDefinition[], edges: ElementDefinition[], view: Viewport): { first: ElementDefinition[]; rest: ElementDefinition[] } {
    if (nodes.length + edges.length <= sliceSize) return { first: [...nodes, ...edges], rest: [] };
    const w = cy.width() / view.zoom;
    const h = cy.height() / view.zoom;
    const x1 = -view.pan.x / view.zoom - w / 2;
    const y1 = -view.pan.y / view.zoom - h / 2;
    const x2 = x1 + 2 * w;
    const y2 = y1 + 2 * h;
    const index = new Map<string, number>();
    nodes.forEach((n, k) => index.set(n.data.id as string, k));
    const early = new Uint8Array(nodes.length);
    this.boxes.forEach((b, k) => {
      if (b.x + b.w / 2 >= x1 && b.x - b.w / 2 <= x2 && b.y + b.h / 2 >= y1 && b.y - b.h / 2 <= y2) early[k] = 1;
    });
    const ends = edges.map((e) => [index.get(e.data.source as string) ?? -1, index.get(e.data.target as string) ?? -1]);
    const seen = early.slice();
    for (const [a, b] of ends) {
      if (a >= 0 && b >= 0 && (seen[a] || seen[b])) early[a] = early[b] = 1;
    }
    const first: ElementDefinition[] = nodes.filter((_, k) => early[k]);
    const cx = (x1 + x2) / 2;
    const cy2 = (y1 + y2) / 2;
    const later = nodes.map((_, k) => k).filter((k) => !early[k]);
    const distance = (k: number): number => Math.abs(this.boxes[k].x - cx) + Math.abs(this.boxes[k].y - cy2);
    later.sort((a, b) => distance(a) - distance(b));
    // Each edge goes in right after the later of its two ends.
    const rank = new Int32Array(nodes.length).fill(-1);
    later.forEach((k, r) => (rank[k] = r));
    const edgesAfter: ElementDefinition[][] = later.map(() => []);
    edges.forEach((e, j) => {
      const [a, b] = ends[j];
      if (a < 0 || b < 0) return;
      const at = Math.max(rank[a], rank[b]);
      if (at < 0) first.push(e);
      else edgesAfter[at].push(e);
    });
    const rest: ElementDefinition[] = [];
    later.forEach((k, r) => rest.push(nodes[k], ...edgesAfter[r]));
    return { first, rest };
  }

  private async addLater(cy: Core, rest: ElementDefinition[], serial: number): Promise<void> {
    for (let k = 0, size = 2 * sliceSize; k < rest.length; k += size, size *= 2) {
      await nextTask();
      if (serial !== this.serial || cy.destroyed()) return;
      cy.add(rest.slice(k, k + size));
    }
  }

  private onWheel(e: WheelEvent): void {
    const cy = this.cy;
    if (!cy) return;
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    const delta = Math.max(-300, Math.min(300, e.deltaY * unit));
    const box = this.container.getBoundingClientRect();
    this.zoomBy(Math.exp(-delta * wheelRate), { x: e.clientX - box.left, y: e.clientY - box.top });
  }

  private onResize(): void {
    const cy = this.cy;
    if (!cy) return;
    cy.resize();
    if (!this.moved) this.firstView();
  }
}
