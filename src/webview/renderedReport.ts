/** The view's report to the host once a graph is on screen (or could not be): sizes and times, for tests and the benchmark. */
import type { Core } from "cytoscape";
import type { RenderedReport } from "../protocol/messages";

export function renderedReport(root: { graph: { nodeCount: number } } | undefined, cy: Core | undefined, grouped: boolean, tooLarge: boolean, started: number, firstPaintMs?: number): RenderedReport {
  return { type: "rendered", nodeCount: root?.graph.nodeCount ?? 0, visibleNodes: cy?.nodes().length ?? 0, elementCount: cy?.elements().length ?? 0, grouped, tooLarge, ms: performance.now() - started, firstPaintMs };
}
