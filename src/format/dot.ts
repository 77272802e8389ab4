/**
 * A graph as Graphviz DOT, in micrograd's draw_dot style: a `{ name | data | grad }` record per
 * value, an ellipse per op, each input's edge labelled with its local gradient. The one DOT
 * writer: the graph view's "Export DOT" and `gradlens graph --dot` both write this.
 */
import type { GraphSnapshot } from "../engine/snapshot";
import { formatNumber } from "./number";

/** Escapes text for a DOT record label (braces, bars and angle brackets are structure there). */
export function escapeRecord(text: string): string {
  return text.replace(/[\\{}|<>"]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");
}

/** `nameOf(i)` is node i's display name ("" for none); by default its label. */
export function graphToDot(s: GraphSnapshot, title: string, nameOf: (i: number) => string = (i) => s.labels[i] ?? ""): string {
  const lines = [`digraph "${title.replace(/["\\]/g, "\\$&")}" {`, "  rankdir=LR;", '  node [fontname="monospace"];'];
  for (let i = 0; i < s.nodeCount; i++) {
    const name = escapeRecord(nameOf(i));
    lines.push(`  n${i} [shape=record, label="{ ${name} | data ${formatNumber(s.data[i], "drawDot")} | grad ${formatNumber(s.grad[i], "drawDot")} }"];`);
    if (s.childStart[i + 1] > s.childStart[i]) {
      lines.push(`  o${i} [shape=ellipse, label="${escapeRecord(s.opNames[s.op[i]])}"];`);
      lines.push(`  o${i} -> n${i};`);
      for (let e = s.childStart[i]; e < s.childStart[i + 1]; e++) {
        lines.push(`  n${s.child[e]} -> o${i} [label="${formatNumber(s.localGrad[e], "drawDot")}"];`);
      }
    }
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}
