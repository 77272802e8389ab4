/**
 * What is on screen: one level of the hierarchy (the items of the open group, with the edges
 * between them merged and counted), or for a graph small enough, every value node by node.
 */
import type { GraphModel } from "./graphModel";
import type { Group, Hierarchy, Item } from "./hierarchy";

export interface Level {
  /** The open group (undefined: the whole graph, node by node). */
  group: Group | undefined;
  items: Item[];
  /** Item index that holds node i, −1 if the node is outside this level. */
  rep: Int32Array;
  /** Merged edges between items (by item index), with how many edges each stands for. */
  edges: { from: number; to: number; count: number }[];
}

export function itemElementId(item: Item): string {
  return item.kind === "node" ? `n${item.node}` : `g${item.group.key}`;
}

/** Every node, one by one (graphs under the grouping threshold). */
export function flatLevel(model: GraphModel): Level {
  const n = model.snapshot.nodeCount;
  const items: Item[] = new Array<Item>(n);
  const rep = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    items[i] = { kind: "node", node: i };
    rep[i] = i;
  }
  return { group: undefined, items, rep, edges: [] };
}

export function groupLevel(model: GraphModel, hierarchy: Hierarchy, group: Group): Level {
  const s = model.snapshot;
  const items = hierarchy.contents(group);
  const rep = new Int32Array(s.nodeCount).fill(-1);
  const members: number[] = [];
  items.forEach((item, k) => {
    if (item.kind === "node") {
      rep[item.node] = k;
      members.push(item.node);
    } else {
      for (const i of hierarchy.members(item.group)) {
        rep[i] = k;
        members.push(i);
      }
    }
  });
  // A level has at most a few hundred items: a dense items × items table counts the edges faster than a map.
  const width = items.length;
  const counts = new Uint32Array(width * width);
  const { childStart, child } = s;
  for (const to of members) {
    const toItem = rep[to];
    for (let e = childStart[to]; e < childStart[to + 1]; e++) {
      const fromItem = rep[child[e]];
      if (fromItem >= 0 && fromItem !== toItem) counts[fromItem * width + toItem]++;
    }
  }
  const edges: Level["edges"] = [];
  for (let key = 0; key < counts.length; key++) if (counts[key] > 0) edges.push({ from: Math.floor(key / width), to: key % width, count: counts[key] });
  return { group, items, rep, edges };
}
