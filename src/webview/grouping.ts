/**
 * What is on screen: every node (small graphs), or one group per source expression with its
 * instance count (large graphs). A function can be folded into one node holding all its
 * expressions; an expression group can be expanded into its instances. Edges between groups
 * are merged, with the number of edges they stand for.
 */
import { type GraphModel, opOf } from "./graphModel";

/** A group is keyed by its site; nodes made outside the user's code (site 0) group by op. */
export function groupKeyOf(model: GraphModel, i: number): string {
  const site = model.snapshot.site[i];
  return site > 0 ? `s${site}` : `u${opOf(model, i) || "leaf"}`;
}

export interface Group {
  key: string;
  members: number[];
  site: number;
  functionName: string | undefined;
}

export interface VisibleGraph {
  grouped: boolean;
  /** Value node ids shown one by one. */
  nodes: number[];
  /** Collapsed groups shown as one node. */
  groups: Group[];
  /** Expanded groups (their members are in `nodes`). */
  expanded: Group[];
  /** Folded functions shown as one node, with their groups. */
  functions: { name: string; groups: Group[] }[];
  /** Merged edges between visible items (element ids), with how many edges each stands for. */
  edges: { from: string; to: string; count: number }[];
  /** Element id that represents node i (its own, or its group's). */
  representative(i: number): string;
}

/** Groups larger than this cannot be expanded one by one (they would defeat the grouping). */
export const maxExpandable = 2000;

export function groupsOf(model: GraphModel): Map<string, Group> {
  const groups = new Map<string, Group>();
  const n = model.snapshot.nodeCount;
  for (let i = 0; i < n; i++) {
    const key = groupKeyOf(model, i);
    let g = groups.get(key);
    if (!g) {
      const site = model.snapshot.site[i];
      g = { key, members: [], site, functionName: site > 0 ? model.sites[site]?.functionName : undefined };
      groups.set(key, g);
    }
    g.members.push(i);
  }
  return groups;
}

export function nodeElementId(i: number): string {
  return `n${i}`;
}

export function groupElementId(key: string): string {
  return `g${key}`;
}

export function functionElementId(name: string): string {
  return `f${name}`;
}

export function visibleGraph(
  model: GraphModel,
  grouped: boolean,
  groups: Map<string, Group>,
  expandedKeys: ReadonlySet<string>,
  collapsedFunctions: ReadonlySet<string>,
): VisibleGraph {
  const s = model.snapshot;
  const n = s.nodeCount;
  if (!grouped) {
    const nodes = Array.from({ length: n }, (_, i) => i);
    return { grouped, nodes, groups: [], expanded: [], functions: [], edges: [], representative: nodeElementId };
  }
  const rep: string[] = new Array(n);
  const nodes: number[] = [];
  const collapsed: Group[] = [];
  const expanded: Group[] = [];
  const functions = new Map<string, Group[]>();
  for (const g of groups.values()) {
    if (g.functionName !== undefined && collapsedFunctions.has(g.functionName)) {
      const folded = functions.get(g.functionName) ?? [];
      folded.push(g);
      functions.set(g.functionName, folded);
      const id = functionElementId(g.functionName);
      for (const i of g.members) rep[i] = id;
    } else if (expandedKeys.has(g.key) && g.members.length <= maxExpandable) {
      expanded.push(g);
      for (const i of g.members) {
        rep[i] = nodeElementId(i);
        nodes.push(i);
      }
    } else {
      collapsed.push(g);
      const id = groupElementId(g.key);
      for (const i of g.members) rep[i] = id;
    }
  }
  const merged = new Map<string, { from: string; to: string; count: number }>();
  for (let to = 0; to < n; to++) {
    const toId = rep[to];
    for (let e = s.childStart[to]; e < s.childStart[to + 1]; e++) {
      const fromId = rep[s.child[e]];
      if (fromId === toId) continue;
      const k = `${fromId}>${toId}`;
      const m = merged.get(k);
      if (m) m.count++;
      else merged.set(k, { from: fromId, to: toId, count: 1 });
    }
  }
  nodes.sort((a, b) => a - b);
  return {
    grouped,
    nodes,
    groups: collapsed,
    expanded,
    functions: [...functions].map(([name, folded]) => ({ name, groups: folded })),
    edges: [...merged.values()],
    representative: (i) => rep[i],
  };
}
