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

  /**
   * The calls that made the nodes of one graph, renumbered densely (callers before callees).
   * Calls nest and are recorded by start, so a node's innermost call is the last call started at
   * or before its id, or the first of that call's callers still open at it: a binary search per
   * node, in the graph's own order (sorting the nodes by id and sweeping the calls cost ~10× more).
   */
  framesFor(order: readonly Value[]): CallFrames | undefined {
    const n = order.length;
    const count = this.count;
    if (count === 0 || n === 0) return undefined;
    const { start, parent: callerOf } = this;
    const node = new Int32Array(n);
    // Calls that hold a node, and their callers, listed as found (not by a pass over every call).
    const used = new Uint8Array(count);
    const found: number[] = [];
    let last = -1;
    for (let i = 0; i < n; i++) {
      const id = order[i].id;
      // Neighbours in a graph were mostly made one after the other: the previous node's call often serves.
      if (last < 0 || start[last] > id || (last + 1 < count && start[last + 1] <= id)) last = this.lastStartedBy(id);
      let k = last;
      while (k >= 0 && !this.contains(k, id)) k = callerOf[k];
      node[i] = k;
      for (let c = k; c >= 0 && !used[c]; c = callerOf[c]) {
        used[c] = 1;
        found.push(c);
      }
    }
    const kept = found.length;
    if (kept === 0) return undefined;
    // Callers before callees, as recorded (a caller's index is below its callees').
    const calls = Int32Array.from(found).sort();
    // Read only at used calls (a used call's caller is used too).
    const renumber = new Int32Array(count);
    for (let r = 0; r < kept; r++) renumber[calls[r]] = r;
    const parent = new Int32Array(kept);
    const fn = new Int32Array(kept);
    const callSite = new Int32Array(kept);
    for (let r = 0; r < kept; r++) {
      const k = calls[r];
      parent[r] = callerOf[k] >= 0 ? renumber[callerOf[k]] : -1;
      fn[r] = this.fn[k];
      callSite[r] = this.callSite[k];
    }
    for (let i = 0; i < n; i++) if (node[i] >= 0) node[i] = renumber[node[i]];
    return { functions: this.functions.slice(), parent, fn, callSite, node };
  }

  /** The last call that started at or before creation id `id` (−1 if none): a binary search, as starts only grow. */
  private lastStartedBy(id: number): number {
    if (this.start[0] > id) return -1;
    let lo = 0;
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
