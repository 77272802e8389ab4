/**
 * The overview: the whole level in miniature with the visible part outlined; click or drag in it
 * to move there. Shown only when the graph is bigger than the view.
 */
import type { Core } from "cytoscape";
import type { Bounds, NodeBox } from "./canvas";
import { el } from "./dom";
import type { Palette } from "./theme";

const width = 150;
const height = 100;

export class Minimap {
  readonly element = el("canvas", { class: "minimap", width: String(width), height: String(height), role: "img" });
  private cy: Core | undefined;
  private frame = 0;
  private scale = 1;
  private origin = { x: 0, y: 0 };
  private dots: readonly NodeBox[] = [];
  private graph: Bounds = { x1: 0, y1: 0, x2: 0, y2: 0 };
  private palette: Palette | undefined;
  enabled = true;

  constructor(label: string) {
    this.element.setAttribute("aria-label", label);
    this.element.title = label;
    const move = (e: PointerEvent): void => {
      const cy = this.cy;
      if (!cy) return;
      const box = this.element.getBoundingClientRect();
      const x = (e.clientX - box.left) / this.scale + this.origin.x;
      const y = (e.clientY - box.top) / this.scale + this.origin.y;
      const zoom = cy.zoom();
      cy.pan({ x: cy.width() / 2 - x * zoom, y: cy.height() / 2 - y * zoom });
    };
    this.element.addEventListener("pointerdown", (e) => {
      this.onUserMove?.();
      move(e);
      const drag = (m: PointerEvent): void => move(m);
      const up = (): void => {
        window.removeEventListener("pointermove", drag);
        window.removeEventListener("pointerup", up);
      };
      window.addEventListener("pointermove", drag);
      window.addEventListener("pointerup", up);
    });
  }

  /** Called when the user navigates with the overview (the view then stays where they put it). */
  onUserMove: (() => void) | undefined;

  /** The level as laid out (its node boxes, not cytoscape's: the view may still be adding them). */
  attach(cy: Core, palette: Palette, dots: readonly NodeBox[], graph: Bounds): void {
    this.cy = cy;
    this.palette = palette;
    this.dots = dots;
    this.graph = graph;
    const w = graph.x2 - graph.x1;
    const h = graph.y2 - graph.y1;
    this.scale = Math.min(width / Math.max(1, w), height / Math.max(1, h));
    this.origin = { x: graph.x1 - (width / this.scale - w) / 2, y: graph.y1 - (height / this.scale - h) / 2 };
    this.update();
  }

  /** Redraws on the next frame (viewport events come many per frame). */
  update(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const cy = this.cy;
    const ctx = this.element.getContext("2d");
    if (!cy || !ctx || !this.palette) return;
    const view = cy.extent();
    const graph = this.graph;
    const fits = view.x1 <= graph.x1 && view.y1 <= graph.y1 && view.x2 >= graph.x2 && view.y2 >= graph.y2;
    this.element.hidden = !this.enabled || fits;
    if (this.element.hidden) return;
    ctx.clearRect(0, 0, width, height);
    ctx.fillStyle = this.palette.background;
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = this.palette.edge;
    for (const d of this.dots) {
      const w = Math.max(1, d.w * this.scale);
      const h = Math.max(1, d.h * this.scale);
      ctx.fillRect((d.x - this.origin.x) * this.scale - w / 2, (d.y - this.origin.y) * this.scale - h / 2, w, h);
    }
    ctx.strokeStyle = this.palette.focus;
    ctx.lineWidth = 2;
    ctx.strokeRect((view.x1 - this.origin.x) * this.scale, (view.y1 - this.origin.y) * this.scale, view.w * this.scale, view.h * this.scale);
  }
}
