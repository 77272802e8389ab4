/**
 * A root's graph should show the numbers as they were when `backward()` ran, but a training loop
 * changes them right after: the optimizer moves each parameter's data and zeroes its grad. Instead
 * of copying every graph at every backward() (dearer than backward itself), this remembers the old
 * numbers of just the values user code writes to afterwards: the instrumenter turns `p.data -= …`
 * and `p.grad = 0` into `__gl_w(p).data -= …`, and the worker's `zeroGrad` reports its writes too.
 * (Wrapping Value's setters instead made every microgpt step 4× slower: V8 stops inlining the getters.)
 */
import { Value } from "../engine";

/** Writes per backward() whose order is remembered (a loop writing more values than this uses the Map alone). */
const MAX_WRITE_ORDER = 1 << 20;

interface SavedState {
  /** The backward() whose state this is (the first write after it saved the numbers). */
  epoch: number;
  data: number;
  grad: number;
}

export class BackwardStates {
  /** Id of the latest recorded backward(); writes after it save the state "as of" it. */
  private epoch = 0;
  /** Epochs whose roots are still kept (the last backward() of each call site). */
  private readonly live = new Set<number>();
  private readonly saved = new Map<Value, SavedState[]>();
  /** The value saved by the latest write: `p.data -= …; p.grad = 0` writes the same value twice in a row. */
  private lastSaved: Value | undefined;
  /**
   * The values written since a backward(), in order, with their saved lists: a training loop writes
   * the same parameters in the same order at every step, so the k-th write after a backward()
   * usually finds its list at `writeLists[k]`, without a Map lookup (one per parameter per step).
   */
  private writeOrder: Value[] = [];
  private writeLists: SavedState[][] = [];
  private writeCount = 0;
  enabled = true;

  /** Called after each recorded backward(); `replaced` is the epoch of the root it supersedes. */
  recordBackward(replaced?: number): number {
    if (replaced !== undefined) this.live.delete(replaced);
    this.lastSaved = undefined;
    this.writeCount = 0;
    this.epoch++;
    this.live.add(this.epoch);
    return this.epoch;
  }

  /** The numbers `v` had at backward() `epoch`, if user code changed them since. */
  stateAt(v: Value, epoch: number): { data: number; grad: number } | undefined {
    return this.saved.get(v)?.find((s) => s.epoch >= epoch);
  }

  /** How many values have saved numbers (the run's end visits these rather than every node). */
  get savedCount(): number {
    return this.saved.size;
  }

  /** Each value whose numbers at backward() `epoch` were saved (user code changed them since), with those numbers. */
  forEachSaved(epoch: number, visit: (v: Value, state: { data: number; grad: number }) => void): void {
    for (const [v, list] of this.saved) {
      const state = list.find((s) => s.epoch >= epoch);
      if (state) visit(v, state);
    }
  }

  /** Called before user code writes `v.data` or `v.grad` (the instrumenter inserts the call). */
  beforeWrite(v: Value): void {
    if (v === this.lastSaved || !this.enabled || this.live.size === 0) return;
    this.lastSaved = v;
    const k = this.writeCount++;
    let list: SavedState[] | undefined;
    if (this.writeOrder[k] === v) list = this.writeLists[k];
    else {
      list = this.saved.get(v);
      if (!list) {
        list = [{ epoch: this.epoch, data: v.data, grad: v.grad }];
        this.saved.set(v, list);
      }
      if (k < MAX_WRITE_ORDER) {
        this.writeOrder[k] = v;
        this.writeLists[k] = list;
      }
    }
    const last = list[list.length - 1];
    if (last.epoch === this.epoch) return; // already saved since the last backward()
    if (list.length === 1 && this.live.size === 1) {
      // The usual training loop: one root kept, the latest (its epoch is this.epoch), so the older state serves no one.
      last.epoch = this.epoch;
      last.data = v.data;
      last.grad = v.grad;
      return;
    }
    // A training loop writes every parameter at every step: the states no live epoch needs make room
    // and are reused, so a step saves its numbers without allocating (and without feeding the GC).
    const spare = list.length >= this.live.size ? this.dropUnneeded(list) : undefined;
    if (spare) {
      spare.epoch = this.epoch;
      spare.data = v.data;
      spare.grad = v.grad;
      list.push(spare);
    } else list.push({ epoch: this.epoch, data: v.data, grad: v.grad });
  }

  /**
   * Keeps, in order, the states a live epoch can ask for (for each, the first saved at or after
   * it: the state at i serves the live epochs after the state before it, up to its own), and
   * returns one of those dropped.
   */
  private dropUnneeded(list: SavedState[]): SavedState | undefined {
    let kept = 0;
    let spare: SavedState | undefined;
    let after = -Infinity;
    for (const state of list) {
      let needed = false;
      for (const epoch of this.live) {
        if (epoch > after && epoch <= state.epoch) {
          needed = true;
          break;
        }
      }
      after = state.epoch;
      if (needed) list[kept++] = state;
      else spare ??= state;
    }
    list.length = kept;
    return spare;
  }
}
