/**
 * The worker's record of function calls (see instrumentFrames.ts), and the per-graph table built
 * from it. A call is the range of creation ids of the values made while it ran, so a node's
 * innermost call is found from its id alone: no per-value bookkeeping while the user's code runs.
 * Calls that made no value cost nothing: their slot is reused.
 */
import { Value, valuesCreated } from "../engine";
import type { CallFrames } from "../protocol/result";

/**
 * At this many calls the record is compacted: a training loop makes a graph's worth of calls per
 * step, and only the last step's graph is shown. The earliest calls (where a model makes its
 * parameters) and the open ones stay; the values of dropped calls count as their caller's.
 */
const MAX_FRAMES = 1_000_000;
const KEEP_EARLIEST = MAX_FRAMES / 4;
/** framesFor steps through fewer calls than this one by one; past it, it jumps (see there). */
const JUMP_AFTER_CALLS = 32;

export class CallFrameRecorder {
  private functions: { name: string; file: string; line: number }[] = [];
  /** Function table index by the instrumentation's function id (filled on a function's first call). */
  private functionById: number[] = [];
  private parent = new Int32Array(1024);
  private fn = new Int32Array(1024);
  private callSite = new Int32Array(1024);
  private start = new Float64Array(1024);
  private end = new Float64Array(1024);
  private count = 0;
  /** The open calls, innermost last. */
  private stack: number[] = [];

  constructor(private readonly currentSite: () => number) {}

  /** `__gl_fe(id, name, file, line)`: returns the token `__gl_fx` closes. Runs on every user call: no string work. */
  enter(id: number, name: string, file: string, line: number): number {
    const depth = this.stack.length;
    let f = this.functionById[id];
    if (f === undefined) {
      f = this.functions.length;
      this.functions.push({ name, file, line });
      this.functionById[id] = f;
    }
    if (this.count >= MAX_FRAMES) this.compact();
    if (this.count === this.parent.length) this.grow();
    const k = this.count++;
    this.parent[k] = depth > 0 ? this.stack[depth - 1] : -1;
    this.fn[k] = f;
    this.callSite[k] = this.currentSite();
    this.start[k] = valuesCreated();
    this.end[k] = -1;
    this.stack.push(k);
    return depth;
  }

  /** `__gl_fx(token, result?)`: closes the call opened at depth `token` (and any a throw left open). */
  exit<T>(token: number, result?: T): T | undefined {
    const now = valuesCreated();
    while (this.stack.length > token) {
      const k = this.stack.pop() as number;
      this.end[k] = now;
      // Nothing made in it (nor in its callees, which came later): forget it.
      if (now === this.start[k] && k === this.count - 1) this.count--;
    }
    return result;
  }

  /** The calls that made the nodes of one graph, renumbered densely (callers before callees). */
  framesFor(order: readonly Value[]): CallFrames | undefined {
    const n = order.length;
    if (this.count === 0 || n === 0) return undefined;
    const node = new Int32Array(n).fill(-1);
    // Nodes by creation id; calls are already by start id and nest.
    const byId = byCreation(order);
    const open: number[] = [];
    let next = 0;
    for (const i of byId) {
      const id = order[i].id;
      if (next < this.count && this.start[next] <= id) {
        // A training step's graph holds parameters made long before the step: stepping through
        // every call made in between costs the whole run's calls, so jump to the last call started
        // by this node; the open calls are then exactly that call and its callers.
        const last = this.lastStartedBy(id, next);
        if (last - next > JUMP_AFTER_CALLS) {
          open.length = 0;
          for (let k = last; k >= 0; k = this.parent[k]) open.push(k);
          open.reverse();
          next = last + 1;
        } else {
          while (next <= last) {
            while (open.length > 0 && !this.contains(open[open.length - 1], this.start[next])) open.pop();
            open.push(next++);
          }
        }
      }
      while (open.length > 0 && !this.contains(open[open.length - 1], id)) open.pop();
      node[i] = open.length > 0 ? open[open.length - 1] : -1;
    }
    // Keep only calls that hold a node (and their callers): listed as found, not by a pass over every call.
    const used = new Uint8Array(this.count);
    const found: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let k = node[i]; k >= 0 && !used[k]; k = this.parent[k]) {
        used[k] = 1;
        found.push(k);
      }
    }
    const kept = found.length;
    if (kept === 0) return undefined;
    // Callers before callees, as recorded (a caller's index is below its callees').
    const calls = Int32Array.from(found).sort();
    // Read only at used calls (a used call's caller is used too).
    const renumber = new Int32Array(this.count);
    for (let r = 0; r < kept; r++) renumber[calls[r]] = r;
    const parent = new Int32Array(kept);
    const fn = new Int32Array(kept);
    const callSite = new Int32Array(kept);
    for (let r = 0; r < kept; r++) {
      const k = calls[r];
      parent[r] = this.parent[k] >= 0 ? renumber[this.parent[k]] : -1;
      fn[r] = this.fn[k];
      callSite[r] = this.callSite[k];
    }
    for (let i = 0; i < n; i++) if (node[i] >= 0) node[i] = renumber[node[i]];
    return { functions: this.functions.slice(), parent, fn, callSite, node };
  }

  /** The last call in [from, count) that started at or before creation id `id` (start[from] ≤ id): a binary search, as starts only grow. */
  private lastStartedBy(id: number, from: number): number {
    let lo = from;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.start[mid] <= id) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Helpers for the instrumented code. */
  helpers(enterName: string, exitName: string): Record<string, unknown> {
    return {
      [enterName]: (id: number, name: string, file: string, line: number) => this.enter(id, name, file, line),
      [exitName]: <T>(token: number, result?: T) => this.exit(token, result),
    };
  }

  private compact(): void {
    const keep = new Uint8Array(this.count);
    keep.fill(1, 0, Math.min(KEEP_EARLIEST, this.count));
    for (const k of this.stack) keep[k] = 1;
    const renumber = new Int32Array(this.count).fill(-1);
    let kept = 0;
    for (let k = 0; k < this.count; k++) {
      if (!keep[k]) continue;
      let p = this.parent[k];
      while (p >= 0 && !keep[p]) p = this.parent[p];
      this.parent[kept] = p >= 0 ? renumber[p] : -1;
      this.fn[kept] = this.fn[k];
      this.callSite[kept] = this.callSite[k];
      this.start[kept] = this.start[k];
      this.end[kept] = this.end[k];
      renumber[k] = kept++;
    }
    this.count = kept;
    this.stack = this.stack.map((k) => renumber[k]);
  }

  private contains(k: number, id: number): boolean {
    return id >= this.start[k] && (this.end[k] < 0 || id < this.end[k]);
  }

  private grow(): void {
    const size = this.parent.length * 2;
    const bigger = <A extends Int32Array | Float64Array>(a: A): A => {
      const b = new (a.constructor as new (n: number) => A)(size);
      b.set(a);
      return b;
    };
    this.parent = bigger(this.parent);
    this.fn = bigger(this.fn);
    this.callSite = bigger(this.callSite);
    this.start = bigger(this.start);
    this.end = bigger(this.end);
  }
}

/** Positions of `order` sorted by the nodes' creation ids. */
function byCreation(order: readonly Value[]): Int32Array | number[] {
  const n = order.length;
  // id × 2^k + position, sorted as numbers (a typed array's native sort, no comparator calls), while that stays exact.
  const bits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const scale = 2 ** bits;
  const keys = new Float64Array(n);
  let exact = true;
  for (let i = 0; i < n; i++) {
    keys[i] = order[i].id * scale + i;
    if (keys[i] > Number.MAX_SAFE_INTEGER) exact = false;
  }
  if (!exact) return Array.from({ length: n }, (_, i) => i).sort((a, b) => order[a].id - order[b].id);
  keys.sort();
  const positions = new Int32Array(n);
  for (let i = 0; i < n; i++) positions[i] = keys[i] % scale;
  return positions;
}
