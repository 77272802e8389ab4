/** The picture and the graph as files: PNG and SVG of what is drawn, DOT of the whole graph. */
import type { Core } from "cytoscape";
import { graphToDot } from "./dot";
import type { GraphModel } from "./graphModel";
import { graphToSvg } from "./svgExport";

export function exportImage(cy: Core, format: "png" | "svg", background: string): string {
  return format === "png" ? cy.png({ output: "base64uri", full: true, bg: background, maxWidth: 8000, maxHeight: 8000 }) : graphToSvg(cy, background);
}

export function exportDot(model: GraphModel, rootName: string): string {
  return graphToDot(model, rootName || "graph");
}
