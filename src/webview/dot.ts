/** The whole graph as Graphviz DOT, in micrograd's draw_dot style: `{ label | data | grad }` records and op nodes. */
import { type GraphModel, nameOf, opOf } from "./graphModel";
import { formatNumber } from "./format";

/** Escapes text for a DOT record label (braces, bars and angle brackets are structure there). */
export function escapeRecord(text: string): string {
  return text.replace(/[\\{}|<>"]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");
}

export function graphToDot(model: GraphModel, title: string): string {
  const s = model.snapshot;
  const lines = [`digraph "${title.replace(/["\\]/g, "\\$&")}" {`, "  rankdir=LR;", "  node [fontname=\"monospace\"];"];
  for (let i = 0; i < s.nodeCount; i++) {
    const name = escapeRecord(nameOf(model, i));
    lines.push(`  n${i} [shape=record, label="{ ${name} | data ${formatNumber(s.data[i])} | grad ${formatNumber(s.grad[i])} }"];`);
    const op = opOf(model, i);
    if (s.childStart[i + 1] > s.childStart[i]) {
      lines.push(`  o${i} [shape=ellipse, label="${escapeRecord(op)}"];`);
      lines.push(`  o${i} -> n${i};`);
      for (let e = s.childStart[i]; e < s.childStart[i + 1]; e++) {
        lines.push(`  n${s.child[e]} -> o${i} [label="${formatNumber(s.localGrad[e])}"];`);
      }
    }
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}
