/**
 * The level on screen: builds a level's elements (elements.ts), lays them out (layout.ts, in the
 * worker for big levels), hands them to the canvas with the first view, and points the overview
 * at them. The timings of each phase go to the benchmark.
 */
import type { LabelContext } from "./elements";
import { buildLevel } from "./elements";
import type { Canvas, Viewport } from "./canvas";
import type { Group } from "./hierarchy";
import { layoutInWorker } from "./layout";
import { flatLevel, groupLevel, itemElementId, type Level } from "./level";
import type { Minimap } from "./minimap";
import type { Palette } from "./theme";

export class Stage {
  level: Level | undefined;
  minimap: Minimap | undefined;
  private serial = 0;

  constructor(
    readonly canvas: Canvas,
    private readonly timings: Record<string, number>,
  ) {}

  /**
   * Shows `group` (undefined: the graph node by node). Resolves once the first view is handed to
   * the canvas (undefined if a later call overtook this one), with when that view was drawn.
   */
  async show(c: LabelContext, group: Group | undefined, palette: Palette, viewport?: Viewport, moved = false): Promise<{ level: Level; firstPaint: Promise<number> } | undefined> {
    const serial = ++this.serial;
    const level = c.hierarchy && group ? groupLevel(c.model, c.hierarchy, group) : flatLevel(c.model);
    let mark = performance.now();
    const built = buildLevel(c, level);
    this.timings.elements = performance.now() - mark;
    mark = performance.now();
    const positions = await layoutInWorker(built.layout);
    this.timings.layout = performance.now() - mark;
    if (serial !== this.serial) return undefined;
    built.ids.forEach((_, k) => (built.elements[k].position = { x: positions.x[k], y: positions.y[k] }));
    mark = performance.now();
    this.level = level;
    const cy = this.canvas.show(built.elements, palette, focusOf(level), viewport);
    if (viewport) this.canvas.moved = moved;
    this.timings.cytoscape = performance.now() - mark;
    const firstPaint = new Promise<number>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now()))));
    this.minimap?.attach(cy, palette, this.canvas.boxes, this.canvas.bounds);
    return { level, firstPaint };
  }

  /** The element that holds node i on this level. */
  elementOf(i: number): string | undefined {
    const level = this.level;
    return level && level.rep[i] >= 0 ? itemElementId(level.items[level.rep[i]]) : undefined;
  }

  clear(): void {
    this.serial++;
    this.level = undefined;
    this.canvas.destroy();
  }
}

/** The element a big level's first view centres on: the item holding the level's last value (the output). */
function focusOf(level: Level): string | undefined {
  for (let i = level.rep.length - 1; i >= 0; i--) if (level.rep[i] >= 0) return itemElementId(level.items[level.rep[i]]);
  return undefined;
}
