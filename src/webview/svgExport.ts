/**
 * The view as a standalone SVG, drawn from cytoscape's computed styles and positions.
 * (Written here rather than taken from the cytoscape-svg extension, whose GPL licence
 * would not fit an MIT extension that bundles it.)
 */
import type { Core, EdgeSingular, NodeSingular } from "cytoscape";
import { escapeXml } from "../format/markup";

function attribute(name: string, value: string | number): string {
  return `${name}="${escapeXml(String(value))}"`;
}

function nodeShape(node: NodeSingular): string {
  const { x, y } = node.position();
  const w = node.width();
  const h = node.height();
  const paint = [
    attribute("fill", node.style("background-color") as string),
    attribute("fill-opacity", node.style("background-opacity") as string),
    attribute("stroke", node.style("border-color") as string),
    attribute("stroke-width", parseFloat(node.style("border-width") as string) || 0),
  ];
  if ((node.style("border-style") as string) === "dashed") paint.push(attribute("stroke-dasharray", "4 3"));
  const shape = node.style("shape") as string;
  if (shape === "ellipse") return `<ellipse ${attribute("cx", x)} ${attribute("cy", y)} ${attribute("rx", w / 2)} ${attribute("ry", h / 2)} ${paint.join(" ")}/>`;
  const radius = shape.startsWith("round") ? 4 : 0;
  return `<rect ${attribute("x", x - w / 2)} ${attribute("y", y - h / 2)} ${attribute("width", w)} ${attribute("height", h)} ${attribute("rx", radius)} ${paint.join(" ")}/>`;
}

function label(node: NodeSingular | EdgeSingular, x: number, y: number): string {
  const text = String(node.data("label") ?? "");
  if (!text) return "";
  const lines = text.split("\n");
  const size = parseFloat(node.style("font-size") as string) || 11;
  const fill = attribute("fill", node.style("color") as string);
  const font = attribute("font-family", node.style("font-family") as string);
  const top = y - ((lines.length - 1) * size * 1.2) / 2;
  return lines
    .map((line, k) => `<text ${attribute("x", x)} ${attribute("y", top + k * size * 1.2)} ${attribute("font-size", size)} ${fill} ${font} text-anchor="middle" dominant-baseline="central">${escapeXml(line)}</text>`)
    .join("");
}

export function graphToSvg(cy: Core, background: string): string {
  const box = cy.elements().boundingBox({});
  const pad = 20;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" ${attribute("viewBox", `${box.x1 - pad} ${box.y1 - pad} ${box.w + 2 * pad} ${box.h + 2 * pad}`)} ${attribute("width", Math.ceil(box.w + 2 * pad))} ${attribute("height", Math.ceil(box.h + 2 * pad))}>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="context-stroke"/></marker></defs>`,
    `<rect ${attribute("x", box.x1 - pad)} ${attribute("y", box.y1 - pad)} ${attribute("width", box.w + 2 * pad)} ${attribute("height", box.h + 2 * pad)} ${attribute("fill", background)}/>`,
  );
  cy.edges().forEach((edge) => {
    const from = edge.sourceEndpoint();
    const to = edge.targetEndpoint();
    const arrow = (edge.style("target-arrow-shape") as string) !== "none" ? ' marker-end="url(#arrow)"' : "";
    parts.push(`<line ${attribute("x1", from.x)} ${attribute("y1", from.y)} ${attribute("x2", to.x)} ${attribute("y2", to.y)} ${attribute("stroke", edge.style("line-color") as string)} ${attribute("stroke-width", parseFloat(edge.style("width") as string) || 1)}${arrow}/>`);
    if (edge.data("label") !== undefined) parts.push(label(edge, (from.x + to.x) / 2, (from.y + to.y) / 2));
  });
  cy.nodes().forEach((node) => {
    const { x, y } = node.position();
    parts.push(`<g>${nodeShape(node)}${label(node, x, y)}</g>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
