/** The `gradlens graph` outputs: JSON, Graphviz DOT, and a table for people. */
import { toJsonNumber, type JsonNumber } from "../engine/snapshot";
import type { RootGraph, SourceSite } from "../protocol/result";
import { graphToDot } from "../format/dot";
import { formatNumber as format } from "../format/number";

export interface GraphJson {
  root: { name: string; reason: RootGraph["reason"]; line: number | null };
  nodes: { id: number; op: string; label: string | null; data: JsonNumber; grad: JsonNumber; line: number | null }[];
  /** `localGrad`: d(to)/d(from), null where it is unknown (a closure-based class whose step could not be replayed). */
  edges: { from: number; to: number; localGrad: JsonNumber | null }[];
}

export function graphJson(root: RootGraph, sites: readonly SourceSite[]): GraphJson {
  const g = root.graph;
  const lineOf = (site: number) => (site > 0 && sites[site] ? sites[site].line : null);
  const nodes: GraphJson["nodes"] = [];
  const edges: GraphJson["edges"] = [];
  for (let i = 0; i < g.nodeCount; i++) {
    nodes.push({ id: i, op: g.opNames[g.op[i]], label: g.labels[i] ?? null, data: toJsonNumber(g.data[i]), grad: toJsonNumber(g.grad[i]), line: lineOf(g.site[i]) });
    for (let e = g.childStart[i]; e < g.childStart[i + 1]; e++) edges.push({ from: g.child[e], to: i, localGrad: localGradJson(g.localGrad[e]) });
  }
  return { root: { name: root.name, reason: root.reason, line: root.position?.line ?? null }, nodes, edges };
}

/** Snapshots keep an unknown local gradient as NaN (the engine's mark for "not given"); JSON says null. */
function localGradJson(x: number): JsonNumber | null {
  return Number.isNaN(x) ? null : toJsonNumber(x);
}

/** micrograd's draw_dot picture, as the graph view exports it (src/format/dot.ts); the caller ends the line. */
export function graphDot(root: RootGraph): string {
  return graphToDot(root.graph, root.name).trimEnd();
}

export function graphTable(root: RootGraph, sites: readonly SourceSite[], maxRows = 60): string {
  const json = graphJson(root, sites);
  const rows = json.nodes.slice(-maxRows).map((n) => [String(n.id), n.op || "leaf", n.label ?? "", formatNumber(Number(n.data)), formatNumber(Number(n.grad)), n.line === null ? "" : String(n.line)]);
  const header = `${root.name} (${root.reason === "backward" ? "backward() root" : "last value"}): ${json.nodes.length} nodes, ${json.edges.length} edges`;
  const skipped = json.nodes.length > maxRows ? `\n… ${json.nodes.length - maxRows} earlier nodes not shown (use --json or --dot for all)` : "";
  return `${header}\n${table(["id", "op", "label", "data", "grad", "line"], rows)}${skipped}`;
}

/** Plain columns, left-aligned text and right-aligned numbers. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => r[c] === "" || /^[-+\d.eE]+$|^NaN$|^-?Infinity$/.test(r[c])));
  const render = (cells: string[]) => cells.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd();
  return [render(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(render)].join("\n");
}

/** Numbers in the CLI's tables (the "table" style of src/format/number.ts). */
export const formatNumber = (x: number): string => format(x, "table");
