/** The graph view's DOT export: the shared writer (src/format/dot.ts) with the view's node names. */
import { type GraphModel, nameOf } from "./graphModel";
import { graphToDot as writeDot } from "../format/dot";

export { escapeRecord } from "../format/dot";

export function graphToDot(model: GraphModel, title: string): string {
  return writeDot(model.snapshot, title, (i) => nameOf(model, i));
}
