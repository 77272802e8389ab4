/**
 * A kept training step's graph as the graph view takes it: the root the run kept, with its
 * parameters' paths (`model.layers[0].w[3]`) as their names, and its call stacks as recorded.
 */
import type { RootGraph } from "./result";
import type { StepGraph } from "./training";

export function stepRoot(kept: StepGraph, name: string): RootGraph {
  const root: RootGraph = { ...kept.root, name };
  const entries = Object.entries(kept.paths ?? {}).filter(([id]) => Number.isInteger(Number(id)) && Number(id) >= 0 && Number(id) < kept.root.graph.nodeCount);
  if (entries.length > 0 && !root.parameterPaths) root.parameterPaths = { node: Uint32Array.from(entries, ([id]) => Number(id)), path: entries.map(([, p]) => p) };
  return root;
}
