/**
 * The graph on screen: one root of a run as a model, its call stacks, its groups when it is big,
 * and the key its saved state is kept under.
 */
import { fromWireGraph } from "../protocol/messages";
import type { GraphStrings, ViewSettings, WireResult } from "../protocol/messages";
import type { LabelContext } from "./elements";
import { fillIn } from "./format";
import { buildModel } from "./graphModel";
import { Hierarchy } from "./hierarchy";

export interface Shown extends LabelContext {
  result: WireResult;
  rootIndex: number;
  settings: ViewSettings;
  /** The call stacks (grouping uses them only when `hierarchy` is set). */
  calls: Hierarchy;
  key: string;
}

/** Root `index` of `result` (which exists and is within the node limit). */
export function showRoot(result: WireResult, index: number, strings: GraphStrings, settings: ViewSettings): Shown {
  const root = result.roots[index];
  const snapshot = fromWireGraph(root.graph);
  const origin = result.nonFinite?.root === index ? result.nonFinite.id : undefined;
  const model = buildModel(snapshot, result.sites, { origin, paths: root.parameterPaths, unknownLocalGrad: root.unknownLocalGrad });
  const grouped = snapshot.nodeCount > settings.groupThreshold;
  // Call stacks name a node's calls in the tooltip and in search at any size; groups only when big.
  const calls = new Hierarchy(model, root.frames);
  const hierarchy = grouped ? calls : undefined;
  const key = `${result.file}#${index}#${snapshot.nodeCount}#${snapshot.data[snapshot.root]}`;
  return { result, rootIndex: index, strings, settings, model, hierarchy, calls, key };
}

/** The notice above a shown graph: whether it was cut short, and whether it is grouped. */
export function noticeOf(shown: Shown): string {
  const { result, rootIndex, strings, model, hierarchy } = shown;
  const truncated = result.roots[rootIndex]?.truncated ? strings.truncated : "";
  return [truncated, hierarchy ? fillIn(strings.grouped, model.snapshot.nodeCount) : ""].filter((x) => x).join(" ");
}
