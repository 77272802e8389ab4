/**
 * Per-step statistics of a training loop on GradLens's engine, recorded at each `backward()`.
 *
 * Parameters are the leaves that persist from one step to the next: a leaf seen in two steps'
 * graphs (or named by a parameter path) is one; constants wrapped afresh each step are not.
 * A step's record is completed at the next backward() (or at the end of the run), because the
 * update ratio |Δp|/|p| needs the data the optimizer left, and the first step's parameters are
 * only known once they show up again. Grads are read right after backward() — before the
 * optimizer zeroes them — so the numbers are those a learner would print there.
 */
import { Value, topologicalOrder } from "../../engine";
import { anyLeaf, inLastBackward } from "../../engine/value";
import type { GroupStep, StepRecord } from "../../protocol/training";
import type { ParamPath } from "../paramPaths";

/** What the recorder reads of a value: GradLens's engine `Value`, or a learner's own class (userValues.ts). */
export interface NumberedValue {
  data: number;
  grad: number;
}

export interface StepRecorderOptions<V extends NumberedValue = Value> {
  /** Paths of the values the program keeps (see paramPaths.ts); asked at the first backward() and once more. */
  parameterPaths?: () => Map<V, ParamPath>;
  /** The walk of a step's graph (default: the engine's scanGraph). */
  scan?: (root: V) => GraphScan<V>;
  /** A cheaper walk for the leaves alone, for a step whose order is not needed (default: the engine's scanLeaves). */
  scanLeaves?: (root: V) => GraphScan<V>;
  /**
   * Whether a value was in the graph of the backward() just done, undefined when that is not known
   * (default: the engine's walk stamps). The second step of a pair then asks it of the first one's
   * new leaves instead of walking its own graph.
   */
  reached?: (v: V) => boolean | undefined;
  /** The site that made a value (default: the engine's `v.site`). */
  siteOf?: (v: V) => number;
  /** Walk every step (the graph was read anyway: a learner's class). */
  scanEveryStep?: boolean;
  /** A group for a parameter without a path: the source line that made it. */
  groupOfSite: (site: number) => string;
  /** Turns raw group keys into the names shown (common prefix dropped); applied when paths are read. */
  shortNames?: (groups: readonly string[]) => Map<string, string>;
  /** Milliseconds since the run started. */
  now: () => number;
}

/** What a step leaves behind until the next backward() completes its record. */
interface OpenStep<V> {
  step: number;
  loss: number;
  deadReluFraction: number | null;
  nonFinite: boolean;
  timeMs: number;
  /** Data and grad of params[0 .. data.length) right after this backward(). */
  data: Float64Array;
  grad: Float64Array;
  /** Leaves first seen in this step, with their numbers: if they come back they were parameters. */
  candidates: V[];
  candidateData: Float64Array;
  candidateGrad: Float64Array;
}

/** The walk of one step's graph: its leaves, its ReLUs, and whether any number is non-finite. */
export interface GraphScan<V = Value> {
  leaves: V[];
  /** ReLUs found by op name (0 from a walk of the leaves alone). */
  relus: number;
  deadRelus: number;
  nonFinite: boolean;
  /** The walk's topological order, when the scan made one (a graph kept at this step reuses it). */
  order?: V[];
}

/** One walk of the engine's own (its fastest: per-node stamps, no Set), then a pass over the nodes. */
export function scanGraph(root: Value): GraphScan {
  const order = topologicalOrder(root);
  const leaves: Value[] = [];
  let relus = 0;
  let deadRelus = 0;
  for (const v of order) {
    if (v.childCount === 0) leaves.push(v);
    else if (v.op === "relu") {
      relus++;
      if (v.child(0).data <= 0) deadRelus++;
    }
  }
  return { leaves, relus, deadRelus, nonFinite: anyNonFinite(root, leaves), order };
}

/**
 * The leaves alone, each node visited once and no order built (about half a topological sort):
 * the steps that look for parameters made late need no more. The engine's `relu` counts ReLUs.
 */
export function scanLeaves(root: Value): GraphScan {
  const leaves: Value[] = [];
  anyLeaf(root, (leaf) => {
    leaves.push(leaf);
    return false;
  });
  return { leaves, relus: 0, deadRelus: 0, nonFinite: anyNonFinite(root, leaves) };
}

/**
 * Non-finite numbers flow to the loss (forward) and to the leaves' grads (backward): checking
 * those is enough, and far cheaper than reading every node's numbers. x − x is NaN for NaN and ±Infinity.
 */
function anyNonFinite(root: Value, leaves: readonly Value[]): boolean {
  if (root.data - root.data !== 0) return true;
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i];
    if (leaf.data - leaf.data !== 0 || leaf.grad - leaf.grad !== 0) return true;
  }
  return false;
}

/** ReLUs made since the last backward() (the runner counts them as they are made), and how many got input ≤ 0. */
export interface ReluCount {
  calls: number;
  dead: number;
}

/**
 * Which steps walk their whole graph (to find parameters among the leaves, and ReLUs the runner
 * could not count): the first two, then pairs at steps 16, 32, 64, … and every 1,024 — a leaf seen
 * in two consecutive walks is a parameter. Walking every step cost about a fifth of a microgpt
 * step; parameters a program makes late are still found, only later.
 */
export function shouldScan(step: number): boolean {
  const k = step % 2 === 1 ? step - 1 : step; // the pair (k, k + 1)
  return step <= 2 || (k >= 16 && ((k & (k - 1)) === 0 || k % 1024 === 0));
}

export class StepRecorder<V extends NumberedValue = Value> {
  /** Every parameter found so far, and its group (an index into `groups`). */
  readonly params: V[] = [];
  readonly paramIndex = new Map<V, number>();
  private readonly paramGroup: number[] = [];
  /** Group names in the order first seen. */
  readonly groups: string[] = [];
  private readonly groupIndex = new Map<string, number>();
  /**
   * The previous step's new leaves: one that shows up again is a parameter. Only one step is kept
   * (a WeakSet of all leaves ever seen made the garbage collector's work grow by half).
   */
  private previousCandidates = new Set<V>();
  private paths: Map<V, ParamPath> | undefined;
  private shortNames = new Map<string, string>();
  /** Groups named by a path (the others are source lines, kept as they are). */
  private readonly pathGroups = new Set<string>();
  private open: OpenStep<V> | undefined;
  /** backward() calls recorded so far. */
  steps = 0;

  private readonly scan: (root: V) => GraphScan<V>;
  private readonly scanLeaves: (root: V) => GraphScan<V>;
  private readonly reached: ((v: V) => boolean | undefined) | undefined;
  private readonly siteOf: (v: V) => number;

  constructor(private readonly options: StepRecorderOptions<V>) {
    // The engine's own walks, stamps and sites, unless the values are a learner's class.
    const engine = options.scan === undefined;
    this.scan = options.scan ?? (scanGraph as unknown as (root: V) => GraphScan<V>);
    this.scanLeaves = options.scanLeaves ?? (engine ? (scanLeaves as unknown as (root: V) => GraphScan<V>) : this.scan);
    this.reached = options.reached ?? (engine ? (inLastBackward as unknown as (v: V) => boolean | undefined) : undefined);
    this.siteOf = options.siteOf ?? ((v) => (v as unknown as Value).site);
  }

  /**
   * This step's walk, if it needs one: step 1's full scan (its order serves the step's kept graph),
   * a walk of the leaves at the first step of a later pair. The second step of a pair asks the
   * backward() walk's stamps which of the first one's new leaves it reached (`returned`), and
   * walks only when the stamps are no longer known.
   */
  private walk(root: V): { scan?: GraphScan<V>; returned?: V[] } {
    if (this.options.scanEveryStep || this.steps === 1) return { scan: this.scan(root) };
    if (!shouldScan(this.steps)) return {};
    const secondOfPair = shouldScan(this.steps - 1);
    if (secondOfPair && this.reached && this.reached(root) === true) {
      const returned: V[] = [];
      for (const leaf of this.previousCandidates) if (this.reached(leaf)) returned.push(leaf);
      return { returned };
    }
    return { scan: this.scanLeaves(root) };
  }

  /**
   * Call right after backward() on `root`. Returns the record of the previous step, now complete,
   * and the scan of this step's graph.
   */
  afterBackward(root: V, relus?: ReluCount): { completed: StepRecord | undefined; nonFinite: boolean; step: number; data: Float64Array; grad: Float64Array; order?: V[] } {
    this.steps++;
    const { scan, returned } = this.walk(root);
    // The program's structure is read at the first two steps: a leaf it holds at both is a parameter
    // (inputs a binding happens to hold at one step are not), used in this step's graph or not.
    const named = this.steps <= 2 ? this.readPaths() : undefined;
    const previous = this.open;
    const candidates: V[] = [];
    const isCandidate = new Set<V>();
    const consider = (leaf: V): void => {
      if (this.paramIndex.has(leaf) || isCandidate.has(leaf)) return;
      if (this.previousCandidates.has(leaf)) {
        this.addParam(leaf);
      } else {
        isCandidate.add(leaf);
        candidates.push(leaf);
      }
    };
    for (const leaf of named?.keys() ?? []) consider(leaf);
    for (const leaf of scan?.leaves ?? returned ?? []) consider(leaf);
    // Candidates only count from a step walked just before this one.
    this.previousCandidates = shouldScan(this.steps + 1) ? isCandidate : new Set();
    if (this.steps === 2 && this.options.shortNames) this.shortNames = this.options.shortNames(this.groups.filter((g) => this.pathGroups.has(g)));
    const n = this.params.length;
    const data = new Float64Array(n);
    const grad = new Float64Array(n);
    let paramsFinite = 0;
    for (let j = 0; j < n; j++) {
      const p = this.params[j];
      const d = p.data;
      const g = p.grad;
      data[j] = d;
      grad[j] = g;
      // x − x is 0 for every finite x, NaN for NaN and ±Infinity: the sum stays 0 while all are finite.
      paramsFinite += d - d + (g - g);
    }
    const candidateData = new Float64Array(candidates.length);
    const candidateGrad = new Float64Array(candidates.length);
    for (let i = 0; i < candidates.length; i++) {
      candidateData[i] = candidates[i].data;
      candidateGrad[i] = candidates[i].grad;
    }
    // The data just read is what the optimizer left: the previous step's update ratio reads it from there.
    const completed = previous ? this.complete(previous, data) : undefined;
    const loss = root.data;
    const reluCount = relus && relus.calls > 0 ? relus : scan ? { calls: scan.relus, dead: scan.deadRelus } : undefined;
    const nonFinite = loss - loss !== 0 || paramsFinite !== 0 || (scan?.nonFinite ?? false);
    this.open = {
      step: this.steps,
      loss,
      deadReluFraction: reluCount && reluCount.calls > 0 ? reluCount.dead / reluCount.calls : null,
      nonFinite,
      timeMs: this.options.now(),
      data,
      grad,
      candidates,
      candidateData,
      candidateGrad,
    };
    return { completed, nonFinite, step: this.steps, data, grad, order: scan?.order };
  }

  /** Completes the last step with the data as it is now (the end of the run). */
  finish(): StepRecord | undefined {
    const last = this.open;
    this.open = undefined;
    return last ? this.complete(last) : undefined;
  }

  /** The display name of every group, in order. */
  groupNames(): string[] {
    return this.groups.map((g) => this.displayName(g));
  }

  private displayName(group: string): string {
    return this.shortNames.get(group) ?? group;
  }

  /** The leaves the program's structure names now (their paths name their groups). */
  private readPaths(): Map<V, ParamPath> | undefined {
    const found = this.options.parameterPaths?.();
    if (!found) return undefined;
    this.paths = found;
    return found;
  }

  private addParam(v: V): void {
    const path = this.paths?.get(v);
    const group = path !== undefined ? path.group : this.options.groupOfSite(this.siteOf(v));
    if (path !== undefined) this.pathGroups.add(group);
    this.paramIndex.set(v, this.params.length);
    this.params.push(v);
    this.paramGroup.push(this.groupNumber(group));
  }

  private groupNumber(group: string): number {
    let g = this.groupIndex.get(group);
    if (g === undefined) {
      g = this.groups.length;
      this.groups.push(group);
      this.groupIndex.set(group, g);
    }
    return g;
  }

  /** `dataNow`: the parameters' data as it is now, read already (else each is read here). */
  private complete(open: OpenStep<V>, dataNow?: Float64Array): StepRecord {
    const groupCount = this.groups.length;
    const gradSq = new Float64Array(groupCount);
    const dataSq = new Float64Array(groupCount);
    const deltaSq = new Float64Array(groupCount);
    const add = (j: number, data: number, grad: number) => {
      const g = this.paramGroup[j];
      const delta = (dataNow !== undefined && j < dataNow.length ? dataNow[j] : this.params[j].data) - data;
      gradSq[g] += grad * grad;
      dataSq[g] += data * data;
      deltaSq[g] += delta * delta;
    };
    for (let j = 0; j < open.data.length; j++) add(j, open.data[j], open.grad[j]);
    for (let i = 0; i < open.candidates.length; i++) {
      const j = this.paramIndex.get(open.candidates[i]);
      if (j !== undefined && j >= open.data.length) add(j, open.candidateData[i], open.candidateGrad[i]);
    }
    let total = 0;
    const groups: Record<string, GroupStep> = {};
    for (let g = 0; g < groupCount; g++) {
      total += gradSq[g];
      groups[this.displayName(this.groups[g])] = { gradNorm: Math.sqrt(gradSq[g]), updateRatio: dataSq[g] > 0 ? Math.sqrt(deltaSq[g] / dataSq[g]) : 0 };
    }
    return {
      step: open.step,
      loss: open.loss,
      gradNorm: Math.sqrt(total),
      groups,
      deadReluFraction: open.deadReluFraction,
      nonFinite: open.nonFinite,
      timeMs: open.timeMs,
    };
  }
}
