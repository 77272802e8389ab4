/** The picture and the graph as files: PNG and SVG of what is drawn, DOT of the whole graph. */
import type { Core } from "cytoscape";
import { graphToDot } from "./dot";
import type { GraphModel } from "./graphModel";
import type { GraphView } from "./graphView";
import { graphToSvg } from "./svgExport";

function exportImage(cy: Core, format: "png" | "svg", background: string): string {
  return format === "png" ? cy.png({ output: "base64uri", full: true, bg: background, maxWidth: 8000, maxHeight: 8000 }) : graphToSvg(cy, background);
}

function exportDot(model: GraphModel, rootName: string): string {
  return graphToDot(model, rootName || "graph");
}

/** Sends the view as a file to the host, which asks where to save it; nothing if nothing is shown. */
export function exportView(view: Pick<GraphView, "cy" | "shown" | "palette" | "host">, format: "png" | "svg" | "dot"): void {
  const { cy, shown } = view;
  const data = format === "dot" ? shown && exportDot(shown.model, shown.result.roots[shown.rootIndex]?.name ?? "") : cy && exportImage(cy, format, view.palette.background);
  if (data) view.host.postMessage({ type: "exportFile", format, data });
}
