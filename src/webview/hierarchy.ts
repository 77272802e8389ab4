/**
 * The grouping model for big graphs: a tree of groups that opens one level at a time.
 *
 * With the runner's call stacks (`CallFrames`), a group is a function call (`gpt() [3]` →
 * `linear() [2]` → one row's dot product); inside a call, the values it made directly are
 * grouped by the source expression that made them. Without call stacks, the top level groups by
 * source expression alone. No level shows more than `levelLimit` items: sibling calls of one
 * function fold into a `linear() ×16` group, and long lists are cut into parts. A group of at
 * most `levelLimit` values opens onto the values themselves.
 */
import type { CallFrames } from "../protocol/result";
import { type GraphModel, shorten } from "./graphModel";

export const levelLimit = 200;
/** Up to this many calls of one function in one place are shown one by one. */
const separateCalls = 12;

export type GroupKind = "top" | "call" | "calls" | "site" | "part";

/**
 * What a group is called, in parts: the view puts them into localised words (captions.ts), so
 * no English is built here.
 */
export interface GroupName {
  /** The call (`logits = gpt()`) or the source expression (`w[i]*x[i]`), as the program writes it. */
  text: string;
  /** Values a program made without an expression of its own: the view says "constants". */
  constants?: boolean;
  /** Which call of its function this one is, when several are shown apart (1-based). */
  call?: number;
  /** How many sibling calls of one function this group folds together. */
  calls?: number;
  /** A part of a list too long for one level: [part, of parts] (1-based). */
  part?: [number, number];
}

export interface Group {
  /** Stable across renders (the open path is saved by keys). */
  key: string;
  kind: GroupKind;
  name: GroupName;
  /** The source site to reveal on click (0 if none). */
  site: number;
  /** Values inside, at any depth. */
  count: number;
  parent: Group | undefined;
}

export type Item = { kind: "node"; node: number } | { kind: "group"; group: Group };

interface GroupData extends Group {
  members: () => number[];
  contents: () => Item[];
  contains: (node: number) => boolean;
}

export class Hierarchy {
  readonly top: Group;
  private readonly n: number;
  private readonly frames: CallFrames | undefined;
  /** Per call: its callees and the values it made itself (CSR, in creation order). */
  private calleeStart = new Uint32Array(1);
  private callee = new Int32Array(0);
  private directStart = new Uint32Array(1);
  private direct = new Int32Array(0);
  private total = new Uint32Array(0);
  private depth = new Uint16Array(0);
  private readonly byKey = new Map<string, GroupData>();

  constructor(private readonly model: GraphModel, frames: CallFrames | undefined) {
    this.n = model.snapshot.nodeCount;
    this.frames = frames && frames.node.length === this.n && frames.parent.length === frames.fn.length ? frames : undefined;
    if (this.frames) this.index(this.frames);
    const top = this.frameGroup(-1, undefined, "t", { text: "" });
    this.top = top;
  }

  /** Whether the tree comes from call stacks (else from source expressions only). */
  get byCalls(): boolean {
    return this.frames !== undefined;
  }

  get(key: string): Group | undefined {
    return this.byKey.get(key);
  }

  /** What opening `group` shows (computed once). */
  contents(group: Group): Item[] {
    return (group as GroupData).contents();
  }

  /** Every value inside `group`, ascending. */
  members(group: Group): number[] {
    return (group as GroupData).members();
  }

  contains(group: Group, node: number): boolean {
    return (group as GroupData).contains(node);
  }

  /** The groups to open, from the top, until `node` shows as itself (the last one holds it). */
  pathTo(node: number): Group[] {
    const path: Group[] = [this.top];
    for (let guard = 0; guard < 64; guard++) {
      const g = path[path.length - 1];
      const items = this.contents(g);
      if (items.some((item) => item.kind === "node" && item.node === node)) return path;
      const next = items.find((item) => item.kind === "group" && this.contains(item.group, node));
      if (!next || next.kind !== "group") return path;
      path.push(next.group);
    }
    return path;
  }

  /** The open path saved as keys, as far as it still exists, then opened like `descend`. */
  openPath(keys: string[] | undefined): Group[] {
    const path = [this.top];
    for (const key of keys?.slice(1) ?? []) {
      const next = this.contents(path[path.length - 1]).find((item) => item.kind === "group" && item.group.key === key);
      if (!next || next.kind !== "group") break;
      path.push(next.group);
    }
    return this.descend(path);
  }

  /** A level with a single group opens it right away (`trainStep()` → `documentLoss()`). */
  descend(path: Group[]): Group[] {
    for (;;) {
      const items = this.contents(path[path.length - 1]);
      if (items.length !== 1 || items[0].kind !== "group") return path;
      path.push(items[0].group);
    }
  }

  /** The groups from the top down to `group` (the breadcrumb). */
  ancestry(group: Group): Group[] {
    const out: Group[] = [];
    for (let g: Group | undefined = group; g; g = g.parent) out.unshift(g);
    return out;
  }

  /** A call's function name as the program spells it, with `()` for named functions. */
  functionTitle(k: number): string {
    const f = this.frames;
    if (!f) return "";
    // Python calls an object through `__call__`: `model(x)` reads as `MLP()`.
    const name = (f.functions[f.fn[k]]?.name ?? "?").replace(/\.__call__$/, "");
    const binding = this.model.sites[f.callSite[k]]?.binding;
    const title = /^(new )?[\w$.]+$/.test(name) ? `${name}()` : shorten(name, 40);
    return binding ? `${binding} = ${title}` : title;
  }

  /** The calls from the outermost to the one that made `node` (for search and the tooltip). */
  stackOf(node: number): number[] {
    const f = this.frames;
    const out: number[] = [];
    if (!f) return out;
    for (let k = f.node[node]; k >= 0; k = f.parent[k]) out.unshift(k);
    return out;
  }

  /** Calls whose function, or whose call expression (`logits = gpt(…)`, `wte: matrix(…)`), mentions `q` (lower case). */
  callsMatching(q: string): Uint8Array {
    const f = this.frames;
    if (!f) return new Uint8Array(0);
    const fns = f.functions.map((fn) => fn.name.toLowerCase().includes(q));
    const sites = this.model.sites.map((site) => site.text.toLowerCase().includes(q) || (site.binding?.toLowerCase().includes(q) ?? false));
    const out = new Uint8Array(f.parent.length);
    for (let k = 0; k < out.length; k++) out[k] = fns[f.fn[k]] || sites[f.callSite[k]] || (f.parent[k] >= 0 && out[f.parent[k]]) ? 1 : 0;
    return out;
  }

  /** The innermost call that made `node`, −1 for top-level code. */
  callOf(node: number): number {
    return this.frames ? this.frames.node[node] : -1;
  }

  // ---- building ------------------------------------------------------------------------

  private index(f: CallFrames): void {
    const calls = f.parent.length;
    const calleeCount = new Uint32Array(calls + 2);
    for (let k = 0; k < calls; k++) calleeCount[f.parent[k] + 2]++;
    // Slot 0 is "top level" (parent −1); call k is slot k + 1.
    this.calleeStart = new Uint32Array(calls + 2);
    for (let k = 0; k <= calls; k++) this.calleeStart[k + 1] = this.calleeStart[k] + calleeCount[k + 1];
    this.callee = new Int32Array(calls);
    const fill = this.calleeStart.slice();
    for (let k = 0; k < calls; k++) this.callee[fill[f.parent[k] + 1]++] = k;
    const directCount = new Uint32Array(calls + 2);
    for (let i = 0; i < this.n; i++) directCount[f.node[i] + 2]++;
    this.directStart = new Uint32Array(calls + 2);
    for (let k = 0; k <= calls; k++) this.directStart[k + 1] = this.directStart[k] + directCount[k + 1];
    this.direct = new Int32Array(this.n);
    const dfill = this.directStart.slice();
    for (let i = 0; i < this.n; i++) this.direct[dfill[f.node[i] + 1]++] = i;
    // Callees come after their callers: one backward pass sums the subtree sizes.
    this.total = new Uint32Array(calls);
    for (let k = 0; k < calls; k++) this.total[k] = directCount[k + 2];
    for (let k = calls - 1; k >= 0; k--) if (f.parent[k] >= 0) this.total[f.parent[k]] += this.total[k];
    this.depth = new Uint16Array(calls);
    for (let k = 0; k < calls; k++) this.depth[k] = f.parent[k] >= 0 ? this.depth[f.parent[k]] + 1 : 0;
  }

  private register(g: GroupData): GroupData {
    this.byKey.set(g.key, g);
    return g;
  }

  private callees(k: number): Int32Array {
    return this.callee.subarray(this.calleeStart[k + 1], this.calleeStart[k + 2]);
  }

  private directOf(k: number): Int32Array {
    if (!this.frames) return k < 0 ? Int32Array.from({ length: this.n }, (_, i) => i) : new Int32Array(0);
    return this.direct.subarray(this.directStart[k + 1], this.directStart[k + 2]);
  }

  /** Calls `k`'s subtree (−1: the whole graph). */
  private frameMembers(k: number): number[] {
    if (k < 0 || !this.frames) return Array.from({ length: this.n }, (_, i) => i);
    // Typed arrays: a call of a 60k-node graph holds up to ~55k values, and a typed sort needs no comparator.
    const out = new Int32Array(this.total[k]);
    let filled = 0;
    const stack = [k];
    while (stack.length > 0) {
      const c = stack.pop() as number;
      const direct = this.directOf(c);
      out.set(direct, filled);
      filled += direct.length;
      for (const d of this.callees(c)) stack.push(d);
    }
    return Array.from(out.sort());
  }

  private inFrame(k: number, node: number): boolean {
    const f = this.frames;
    if (k < 0) return true;
    if (!f) return false;
    for (let c = f.node[node]; c >= 0; c = f.parent[c]) {
      if (c === k) return true;
      if (this.depth[c] < this.depth[k]) return false;
    }
    return false;
  }

  /** The top level (k = −1) or one call. */
  private frameGroup(k: number, parent: Group | undefined, key: string, name: GroupName): GroupData {
    const count = k < 0 ? this.n : this.total[k];
    let members: number[] | undefined;
    let contents: Item[] | undefined;
    const g: GroupData = {
      key,
      kind: k < 0 ? "top" : "call",
      name,
      site: k >= 0 && this.frames ? this.frames.callSite[k] : 0,
      count,
      parent,
      members: () => (members ??= this.frameMembers(k)),
      contents: () => (contents ??= this.frameContents(k, g)),
      contains: (node) => this.inFrame(k, node),
    };
    return this.register(g);
  }

  private frameContents(k: number, owner: GroupData): Item[] {
    if (owner.count <= levelLimit) return owner.members().map((node) => ({ kind: "node", node }));
    const f = this.frames;
    const callees = f ? Array.from(this.callees(k)) : [];
    // Which call of its function each callee is ("gpt() [3]").
    const byFunction = new Map<number, number[]>();
    if (f) for (const c of callees) byFunction.set(f.fn[c], [...(byFunction.get(f.fn[c]) ?? []), c]);
    const siteItems = this.siteItems(this.directOf(k), owner);
    const callName = (c: number): GroupName => {
      const same = byFunction.get(f?.fn[c] ?? -1) ?? [];
      return same.length > 1 ? { text: this.functionTitle(c), call: same.indexOf(c) + 1 } : { text: this.functionTitle(c) };
    };
    // A call that made one value is that value; many calls of one function (a callback per
    // element, a Neuron per output) fold into one group; a few (gpt per position) stay apart.
    const callItem = (c: number): Item => {
      if (this.total[c] === 1) return { kind: "node", node: this.frameMembers(c)[0] };
      return { kind: "group", group: this.frameGroup(c, owner, `c${c}`, callName(c)) };
    };
    const items: Item[] = [];
    const folded = new Set<number>();
    for (const c of callees) {
      const fn = f ? f.fn[c] : -1;
      const calls = byFunction.get(fn) ?? [c];
      if (calls.length <= separateCalls) items.push(callItem(c));
      else if (!folded.has(fn)) {
        folded.add(fn);
        items.push({ kind: "group", group: this.callsGroup(fn, calls, owner, callName) });
      }
    }
    return this.chunk([...items, ...siteItems], owner);
  }

  /** The values a call made itself, by source expression (one alone stays a value). */
  private siteItems(nodes: Int32Array, owner: GroupData): Item[] {
    const s = this.model.snapshot;
    const bySite = new Map<number, number[]>();
    for (const i of nodes) {
      const site = s.site[i];
      const list = bySite.get(site);
      if (list) list.push(i);
      else bySite.set(site, [i]);
    }
    const items: Item[] = [];
    for (const [site, list] of bySite) {
      if (list.length === 1) {
        items.push({ kind: "node", node: list[0] });
        continue;
      }
      items.push({ kind: "group", group: this.listGroup("site", `s${site}@${owner.key}`, this.siteName(site, list[0]), site, list, owner) });
    }
    return items;
  }

  private siteName(site: number, example: number): GroupName {
    const text = this.model.sites[site]?.text;
    if (site > 0 && text) return { text: shorten(text, 40) };
    const op = this.model.snapshot.opNames[this.model.snapshot.op[example]];
    return op ? { text: op } : { text: "", constants: true };
  }

  private callsGroup(fn: number, calls: number[], owner: GroupData, callName: (c: number) => GroupName): GroupData {
    let members: number[] | undefined;
    let contents: Item[] | undefined;
    let count = 0;
    for (const c of calls) count += this.total[c];
    const set = new Set(calls);
    const g: GroupData = {
      key: `f${fn}@${owner.key}`,
      kind: "calls",
      name: { text: this.functionTitle(calls[0]), calls: calls.length },
      site: this.frames?.callSite[calls[0]] ?? 0,
      count,
      parent: owner,
      members: () => (members ??= calls.flatMap((c) => this.frameMembers(c)).sort((a, b) => a - b)),
      contents: () =>
        (contents ??= this.chunk(calls.map((c): Item => (this.total[c] === 1 ? { kind: "node", node: this.frameMembers(c)[0] } : { kind: "group", group: this.frameGroup(c, g, `c${c}`, callName(c)) })), g)),
      contains: (node) => {
        const f = this.frames;
        if (!f) return false;
        for (let c = f.node[node]; c >= 0; c = f.parent[c]) if (set.has(c)) return true;
        return false;
      },
    };
    return this.register(g);
  }

  /** A group of listed values (a source expression's values, or a part of them). */
  private listGroup(kind: "site" | "part", key: string, name: GroupName, site: number, list: number[], owner: Group): GroupData {
    let contents: Item[] | undefined;
    let set: Set<number> | undefined;
    const g: GroupData = {
      key,
      kind,
      name,
      site,
      count: list.length,
      parent: owner,
      members: () => list,
      contents: () => (contents ??= this.chunk(list.map((node) => ({ kind: "node", node })), g)),
      contains: (node) => (set ??= new Set(list)).has(node),
    };
    return this.register(g);
  }

  /** At most `levelLimit` items: longer lists become parts (which may hold parts). */
  private chunk(items: Item[], owner: GroupData): Item[] {
    if (items.length <= levelLimit) return items;
    const size = Math.max(levelLimit, Math.ceil(items.length / levelLimit));
    const parts = Math.ceil(items.length / size);
    const out: Item[] = [];
    for (let p = 0; p < parts; p++) {
      const slice = items.slice(p * size, (p + 1) * size);
      out.push({ kind: "group", group: this.partGroup(slice, owner, p, parts) });
    }
    return out;
  }

  private partGroup(slice: Item[], owner: GroupData, p: number, parts: number): GroupData {
    let members: number[] | undefined;
    let contents: Item[] | undefined;
    let count = 0;
    for (const item of slice) count += item.kind === "node" ? 1 : item.group.count;
    const g: GroupData = {
      key: `p${p}@${owner.key}`,
      kind: "part",
      name: { ...owner.name, part: [p + 1, parts] },
      site: owner.site,
      count,
      parent: owner,
      members: () => (members ??= slice.flatMap((item) => (item.kind === "node" ? [item.node] : this.members(item.group))).sort((a, b) => a - b)),
      contents: () => (contents ??= this.chunk(slice, g)),
      contains: (node) => slice.some((item) => (item.kind === "node" ? item.node === node : this.contains(item.group, node))),
    };
    return this.register(g);
  }
}
