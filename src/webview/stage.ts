/**
 * The level on screen: takes the level's elements, laid out (prepared.ts, often ready before the
 * group is opened), hands them to the canvas with the first view, and points the overview at
 * them. The timings of each phase go to the benchmark.
 */
import type { LabelContext } from "./elements";
import type { Canvas, Viewport } from "./canvas";
import type { Group } from "./hierarchy";
import { itemElementId, type Level } from "./level";
import { Minimap } from "./minimap";
import { elementsToShow, PreparedLevels } from "./prepared";
import type { Palette } from "./theme";
import { warmOnce } from "./warmup";

export class Stage {
  level: Level | undefined;
  minimap: Minimap | undefined;
  /** Resolves when the groups on the shown level were prepared and cytoscape warmed (tests wait for it). */
  warmed: Promise<void> = Promise.resolve();
  private readonly prepared = new PreparedLevels();
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
    const prepared = await this.prepared.get(c, group);
    if (serial !== this.serial) return undefined;
    const { level, elementsMs, layoutMs } = prepared;
    this.timings.elements = elementsMs;
    this.timings.layout = layoutMs;
    const mark = performance.now();
    this.level = level;
    const cy = this.canvas.show(elementsToShow(prepared), palette, focusOf(level), viewport);
    if (viewport) this.canvas.moved = moved;
    this.timings.cytoscape = performance.now() - mark;
    const firstPaint = new Promise<number>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now()))));
    this.minimap?.attach(cy, palette, this.canvas.boxes, this.canvas.bounds);
    // Once this level is drawn, the groups on it most likely opened next are made ready, and
    // cytoscape's code is warmed on the first of them (warmup.ts: the first open in a page is cold).
    this.warmed = firstPaint.then(async () => {
      if (serial !== this.serial) return;
      const next = await this.prepared.ahead(c, level);
      if (next && serial === this.serial) await warmOnce(next.built.elements, palette);
    });
    return { level, firstPaint };
  }

  /** The overview of the levels shown (made once the strings are known); moving in it counts as the user's move. */
  addMinimap(label: string): Minimap {
    const minimap = new Minimap(label);
    minimap.onUserMove = () => (this.canvas.moved = true);
    this.minimap = minimap;
    return minimap;
  }

  /** The element that holds node i on this level. */
  elementOf(i: number): string | undefined {
    const level = this.level;
    return level && level.rep[i] >= 0 ? itemElementId(level.items[level.rep[i]]) : undefined;
  }

  clear(): void {
    this.serial++;
    this.level = undefined;
    this.prepared.clear();
    this.canvas.destroy();
  }
}

/** The element a big level's first view centres on: the item holding the level's last value (the output). */
function focusOf(level: Level): string | undefined {
  for (let i = level.rep.length - 1; i >= 0; i--) if (level.rep[i] >= 0) return itemElementId(level.items[level.rep[i]]);
  return undefined;
}
