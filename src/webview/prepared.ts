/**
 * Levels made ready ahead: a level's elements, laid out, for the shown graph. Opening a group then
 * only hands them to the canvas. While the learner reads a level, the biggest groups on it (the
 * ones most likely opened next) are prepared in idle time, one per idle slot, so preparing never
 * holds up a frame for long; an open that comes first prepares its level itself, or waits for the
 * preparation already under way.
 */
import type { ElementDefinition } from "cytoscape";
import { buildLevel, type BuiltLevel, type LabelContext } from "./elements";
import type { Group } from "./hierarchy";
import { layoutInWorker } from "./layout";
import { flatLevel, groupLevel, type Level } from "./level";

export interface PreparedLevel {
  level: Level;
  built: BuiltLevel;
  /** Milliseconds spent building the elements and laying them out (for the benchmark's phases). */
  elementsMs: number;
  layoutMs: number;
}

/**
 * The elements to hand to the canvas: copies, every time — cytoscape keeps the data objects it is
 * given and the marks change them (labels, classes while stepping), so the prepared ones stay as built.
 */
export function elementsToShow(p: PreparedLevel): ElementDefinition[] {
  return p.built.elements.map((e) => ({ ...e, data: { ...e.data }, ...(e.position ? { position: { ...e.position } } : {}) }));
}

/** Groups prepared ahead from one level at most (each prepared level holds a few hundred elements). */
const ahead = 3;
/** Prepared levels kept: a level left and opened again comes back at once. */
const kept = 12;

/** Runs `run` when the page is idle (within a second at most). */
export const idle = (run: () => void): void => {
  if (typeof requestIdleCallback === "function") requestIdleCallback(run, { timeout: 1000 });
  else setTimeout(run, 50);
};

export class PreparedLevels {
  private shown: LabelContext | undefined;
  private readonly levels = new Map<string, Promise<PreparedLevel>>();
  private serial = 0;

  /** The level of `group` (undefined: the graph node by node) of `c`, prepared now unless it was already. */
  get(c: LabelContext, group: Group | undefined): Promise<PreparedLevel> {
    if (c !== this.shown) {
      this.shown = c;
      this.levels.clear();
      this.serial++;
    }
    const key = group?.key ?? "";
    let level = this.levels.get(key);
    if (!level) {
      level = prepare(c, group);
      this.levels.set(key, level);
      if (this.levels.size > kept) this.levels.delete(this.levels.keys().next().value as string);
    } else {
      // Most recently used last, so the oldest is dropped first.
      this.levels.delete(key);
      this.levels.set(key, level);
    }
    return level;
  }

  /**
   * In idle time, the biggest groups of `level` (of `c`), one at a time; stops when another graph
   * is shown. Resolves with the first one prepared (undefined if the level has no groups).
   */
  ahead(c: LabelContext, level: Level): Promise<PreparedLevel | undefined> {
    const serial = this.serial;
    const next = level.items
      .flatMap((item) => (item.kind === "group" ? [item.group] : []))
      .sort((a, b) => b.count - a.count)
      .slice(0, ahead);
    const step = (): Promise<PreparedLevel | undefined> => {
      const group = next.shift();
      if (!group || serial !== this.serial || c !== this.shown) return Promise.resolve(undefined);
      const prepared = this.get(c, group);
      void prepared.then(() => idle(() => void step()));
      return prepared;
    };
    return new Promise((done) => idle(() => void step().then(done, () => done(undefined))));
  }

  clear(): void {
    this.shown = undefined;
    this.levels.clear();
    this.serial++;
  }
}

async function prepare(c: LabelContext, group: Group | undefined): Promise<PreparedLevel> {
  const level = c.hierarchy && group ? groupLevel(c.model, c.hierarchy, group) : flatLevel(c.model);
  let mark = performance.now();
  const built = buildLevel(c, level);
  const elementsMs = performance.now() - mark;
  mark = performance.now();
  const positions = await layoutInWorker(built.layout);
  built.ids.forEach((_, k) => (built.elements[k].position = { x: positions.x[k], y: positions.y[k] }));
  return { level, built, elementsMs, layoutMs: performance.now() - mark };
}
