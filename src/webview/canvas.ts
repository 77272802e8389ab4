/**
 * The one owner of cytoscape: makes the instance for a level, sets the first view so labels are
 * readable, zooms (buttons, keys, the wheel at a sensible rate), fits again when the panel is
 * resized unless the user moved the view, and reports what the user does to the elements.
 */
import cytoscape from "cytoscape";
import type { Core, ElementDefinition, EventObject, NodeSingular } from "cytoscape";
import { fontSize } from "./elements";
import { graphStyle, type GraphSize, type Palette } from "./theme";

/** Zoom at which labels are at least 11 CSS px. */
export const readableZoom = 11 / fontSize;
/** Per wheel notch (100 px of delta): about 15 %. */
const wheelRate = 0.0015;
const buttonStep = 1.25;
const padding = 24;

export interface CanvasEvents {
  hover(node: NodeSingular, at: { x: number; y: number }): void;
  leave(): void;
  tap(node: NodeSingular): void;
  open(node: NodeSingular): void;
  close(node: NodeSingular): void;
  viewport(): void;
}

function sizeOf(elementCount: number): GraphSize {
  return elementCount > 4000 ? "large" : elementCount > 400 ? "medium" : "small";
}

export class Canvas {
  cy: Core | undefined;
  /** The user zoomed or panned: a resize keeps the view. */
  moved = false;
  private focusId: string | undefined;
  private programmatic = 0;

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

  /** Replaces the graph; `focusId` is what a big graph's first view centres on (the output). */
  show(elements: ElementDefinition[], palette: Palette, focusId: string | undefined, viewport?: { zoom: number; pan: { x: number; y: number } }): Core {
    const size = sizeOf(elements.length);
    const large = size === "large";
    this.cy?.destroy();
    const cy = cytoscape({
      container: this.container,
      elements,
      layout: { name: "preset" },
      style: graphStyle(palette, size),
      pixelRatio: 1,
      minZoom: 0.02,
      maxZoom: 4,
      // The wheel is ours (onWheel): cytoscape's rate depends on the platform's wheel deltas.
      userZoomingEnabled: false,
      boxSelectionEnabled: false,
      autoungrabify: large,
      textureOnViewport: large,
      hideEdgesOnViewport: large,
      motionBlur: false,
    });
    this.cy = cy;
    this.focusId = focusId;
    if (viewport) {
      this.quietly(() => cy.viewport(viewport));
    } else {
      this.moved = false;
      this.firstView();
    }
    cy.on("mouseover", "node", (e: EventObject) => this.events.hover(e.target as NodeSingular, e.renderedPosition));
    cy.on("mouseout", "node", () => this.events.leave());
    cy.on("tap", "node", (e: EventObject) => this.events.tap(e.target as NodeSingular));
    cy.on("dbltap", "node", (e: EventObject) => this.events.open(e.target as NodeSingular));
    cy.on("cxttap", "node", (e: EventObject) => this.events.close(e.target as NodeSingular));
    cy.on("viewport", () => this.events.viewport());
    return cy;
  }

  restyle(palette: Palette): void {
    this.cy?.style(graphStyle(palette, sizeOf(this.cy.elements().length)));
  }

  /**
   * A graph that fits at a readable size is fitted (enlarged up to 100 %); a bigger one opens at
   * 100 % on its output, the output near the right edge where the picture ends.
   */
  firstView(): void {
    const cy = this.cy;
    if (!cy || cy.width() === 0) return;
    this.quietly(() => {
      cy.fit(undefined, padding);
      if (cy.zoom() > 1) {
        cy.zoom(1);
        cy.center();
      } else if (cy.zoom() < readableZoom) {
        const focus = this.focusId ? cy.getElementById(this.focusId) : cy.collection();
        cy.zoom(1);
        if (focus.nonempty()) {
          const p = focus.renderedPosition();
          const w = focus.renderedWidth();
          cy.panBy({ x: cy.width() - padding - w / 2 - p.x, y: cy.height() / 2 - p.y });
        } else cy.center();
      }
    });
  }

  /** The whole level in view, enlarged at most to 100 % (the view then follows resizes again). */
  fit(): void {
    this.moved = false;
    const cy = this.cy;
    if (!cy) return;
    this.quietly(() => {
      cy.fit(undefined, padding);
      if (cy.zoom() > 1) {
        cy.zoom(1);
        cy.center();
      }
    });
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
    this.cy?.destroy();
    this.cy = undefined;
  }

  private quietly(change: () => void): void {
    this.programmatic++;
    try {
      change();
    } finally {
      this.programmatic--;
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
