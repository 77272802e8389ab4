/**
 * The view's report to the host once a graph is on screen (or could not be): sizes, and the time
 * of each phase from the moment the graph's message arrived, for tests and the benchmark.
 * "Rendered" means every element is in and a frame with them was drawn.
 */
import type { Core } from "cytoscape";
import type { RenderedReport } from "../protocol/messages";
import type { HostApi } from "./vscodeApi";

type Root = { graph: { nodeCount: number } } | undefined;

export function renderedReport(root: Root, cy: Core | undefined, grouped: boolean, tooLarge: boolean, started: number, firstPaintMs?: number): RenderedReport {
  return { type: "rendered", nodeCount: root?.graph.nodeCount ?? 0, visibleNodes: cy?.nodes().length ?? 0, elementCount: cy?.elements().length ?? 0, grouped, tooLarge, ms: performance.now() - started, firstPaintMs };
}

export class RenderReporter {
  /** Milliseconds per phase of the last render (the benchmark prints them). */
  readonly timings: Record<string, number> = {};
  private started = 0;
  private root: Root;

  constructor(
    private readonly host: HostApi,
    private readonly cy: () => Core | undefined,
  ) {}

  /** A graph's message arrived: its phases are timed from now. */
  begin(root: Root): void {
    this.started = performance.now();
    this.root = root;
  }

  /** Runs `run`, recording how long it took as `phase`. */
  measure<T>(phase: string, run: () => T): T {
    const mark = performance.now();
    const result = run();
    this.timings[phase] = performance.now() - mark;
    return result;
  }

  /** Runs `run`, recording how long it took to resolve as `phase`. */
  async measured<T>(phase: string, run: () => Promise<T>): Promise<T> {
    const mark = performance.now();
    const result = await run();
    this.timings[phase] = performance.now() - mark;
    return result;
  }

  /** No graph on screen: too large, or none to show. */
  none(tooLarge: boolean): void {
    this.host.postMessage(renderedReport(this.root, this.cy(), false, tooLarge, this.started));
  }

  /** The first view was drawn at `paint`; reports after the next frames, unless `current()` says another graph came since. */
  drawn(paint: number, grouped: boolean, current: () => boolean): void {
    const firstPaint = (this.timings.firstPaint = paint - this.started);
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (!current()) return;
        this.timings.total = performance.now() - this.started;
        this.host.postMessage(renderedReport(this.root, this.cy(), grouped, false, this.started, firstPaint));
      }),
    );
  }
}
