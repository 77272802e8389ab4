/**
 * The training recorder inside the worker, beside the user's code: hooked into `backward()`, it
 * records a StepRecord per call (stepRecorder.ts), streams them in batches, keeps full graphs for
 * a few steps, and ends the program cleanly when asked to stop (Stop, `--steps N`).
 */
import { existsSync, writeFileSync } from "node:fs";
import { serialize } from "node:v8";
import { Value, snapshotGraphPacked, topologicalOrder, type GraphSnapshot } from "../../engine";
import { numberPositions, positionIn } from "../../engine/value";
import { packLabels, type PackedLabels } from "../labelTransfer";
import { findParameterPaths, shortGroupNames, type ParamPath, type PathRoot } from "../paramPaths";
import { StepRecorder, type GraphScan } from "./stepRecorder";
import { CHILDREN_KEYS, type RecordedGraph, type UserValue, type UserValues } from "../userValues";
import { StepLog } from "../../protocol/stepLog";
import type { StepRecord } from "../../protocol/training";
import type { CallFrames } from "../../protocol/result";

/** What the caller asks of a training run (travels in WorkerInput). */
export interface WorkerTrainingInput {
  /** The caller creates this file to ask the program to stop (at its next backward()). */
  stopPath: string;
  /** Stop at the backward() after this many (the program ends cleanly). */
  maxSteps?: number;
  /** "model.ts:12" per site id: the group of a parameter no path reaches. */
  siteLabels: string[];
  /** The loop bound read from the source (loopBound.ts), for an ETA. */
  totalSteps?: number;
  /** Steps kept exactly before thinning (tests make it small). */
  maxKeptSteps?: number;
}

/**
 * A root's walk and snapshot that the worker made for its own result (see WorkerTraining.finish),
 * with its packed labels and call frames: the result's root and the last step's kept graph are the
 * same graph, and each of these costs a pass over it (the frames about as much as the snapshot).
 */
export interface SharedSnapshot {
  order: Value[];
  graph: GraphSnapshot;
  labels: () => PackedLabels;
  frames: () => CallFrames | undefined;
  /** Every number of the graph was finite when it was taken (undefined: not known, or changed since). */
  finite?: boolean;
}

/** A kept graph as the worker sends it; the caller maps sites to positions. */
export interface WorkerStepGraph {
  step: number;
  name: string;
  siteId: number;
  graph: GraphSnapshot;
  labels: PackedLabels;
  paths: Record<number, string>;
  /** The calls that made its nodes (as a plain run's graph has them): the view groups and steps by them. */
  frames?: CallFrames;
}

export interface WorkerTrainingOutput {
  steps: StepRecord[];
  groups: string[];
  graphs: WorkerStepGraph[];
  stoppedAfter?: number;
  totalSteps?: number;
  thinned?: { every: number; steps: number };
}

/** What the worker streams while the program runs (the caller maps its graphs' sites to positions). */
export interface WorkerTrainingProgress {
  steps: StepRecord[];
  newGroups: string[];
  /**
   * Graphs kept since the last batch, to open while the run goes: each in its own file (v8
   * serialization), as a big message would sit in the channel until the busy program ends.
   */
  graphFiles?: { step: number; file: string }[];
  /** With `graphFiles`: every step whose graph is kept now (a newer recent graph replaces the older). */
  graphSteps?: number[];
  stride?: number;
  final?: boolean;
  totalSteps?: number;
}

/** Thrown from backward() to end the user's program when the run is asked to stop; not an error. */
export class StopTraining {
  constructor(readonly afterSteps: number) {}
}

/** How many of the most recent steps keep their full graph. */
export const RECENT_GRAPHS = 1;
/** How often the stop file is looked for (a file system call: not at every step of a fast loop). */
const STOP_CHECK_MS = 50;
/** Streamed batches at most this often (the view redraws per batch). */
const BATCH_MS = 100;
/**
 * While the run goes, a recent step's graph is taken this often at most, and never more than
 * 1/LIVE_GRAPH_SHARE of the run's time (a snapshot of a big step costs a few of its steps).
 */
export const LIVE_GRAPH_MS = 10_000;
/** A training run streams a recent graph every LIVE_GRAPH_MS: its first checkpoint waits as long (both runners). */
export function firstCheckpointGapMs(intervalMs: number, training: boolean): number {
  return training ? Math.max(intervalMs, LIVE_GRAPH_MS) : intervalMs;
}
const LIVE_GRAPH_SHARE = 50;

interface RecentStep {
  step: number;
  root: Value;
  siteId: number;
  data: Float64Array;
  grad: Float64Array;
}

export class WorkerTraining {
  private readonly recorder: StepRecorder;
  private lastStopCheck = 0;
  private readonly steps: StepLog;
  private readonly graphs: WorkerStepGraph[] = [];
  /** Graphs kept since the last batch (sent with it). */
  private newGraphs: WorkerStepGraph[] = [];
  /** The step of the live "recent" graph in `graphs` (replaced by a newer one). */
  private liveStep: number | undefined;
  private nextLiveGraphAt = 0;
  private readonly recent: RecentStep[] = [];
  private readonly bindingObjects: unknown[] = [];
  private batch: StepRecord[] = [];
  private announcedGroups = 0;
  private lastFlush = 0;
  private nonFiniteKept = false;
  private stoppedAfter: number | undefined;
  /** ReLUs made since the last backward() (counted by the patched `relu`). */
  private readonly relus = { calls: 0, dead: 0 };

  constructor(
    private readonly input: WorkerTrainingInput,
    private readonly options: {
      bindingNames: readonly string[];
      /** Values bound to each binding id (the worker's table). */
      boundValues: readonly (Value | undefined)[];
      groupOfSite: (site: number) => string;
      nodeLimit?: number;
      post: (progress: WorkerTrainingProgress) => void;
      started: number;
      /** The call stacks of a graph's nodes (the worker's CallFrameRecorder). */
      framesFor?: (order: readonly Value[]) => CallFrames | undefined;
    },
  ) {
    this.steps = new StepLog(input.maxKeptSteps);
    this.nextLiveGraphAt = LIVE_GRAPH_MS;
    const relu = Value.prototype.relu;
    const relus = this.relus;
    // Counting ReLUs as they are made is far cheaper than finding them in each step's graph.
    Value.prototype.relu = function (this: Value): Value {
      relus.calls++;
      if (this.data <= 0) relus.dead++;
      return relu.call(this);
    };
    this.recorder = new StepRecorder({
      parameterPaths: () => this.parameterPaths(),
      groupOfSite: options.groupOfSite,
      shortNames: (groups) => shortGroupNames(groups),
      now: () => performance.now() - options.started,
    });
  }

  /** The bind helper reports objects too while training, so parameter paths can start at them. */
  noteBinding(binding: number, x: object): void {
    this.bindingObjects[binding] = x;
  }

  /** Called after each recorded backward(): throws StopTraining when the run should end here. */
  stopIfAsked(): void {
    const done = this.recorder.steps + (this.user?.recorder.steps ?? 0);
    let asked = this.input.maxSteps !== undefined && done >= this.input.maxSteps;
    const now = performance.now();
    if (!asked && now - this.lastStopCheck >= STOP_CHECK_MS) {
      this.lastStopCheck = now;
      asked = existsSync(this.input.stopPath);
    }
    if (asked) {
      this.stoppedAfter = done;
      throw new StopTraining(done);
    }
  }

  /** A learner's own Value class (userValues.ts): each backward() it records is a step too, read from the graph it recorded. */
  attachUserValues(users: UserValues): void {
    let current: GraphScan<LearnerValue> | undefined;
    const recorder = new StepRecorder<LearnerValue>({
      parameterPaths: () => this.userParameterPaths(users),
      scan: () => current as GraphScan<LearnerValue>,
      siteOf: (v) => users.siteOf(v),
      scanEveryStep: true,
      groupOfSite: this.options.groupOfSite,
      shortNames: (groups) => shortGroupNames(groups),
      now: () => performance.now() - this.options.started,
    });
    this.user = { users, recorder, kept: [], recent: undefined };
    users.onRecorded = (root, graph, siteId) => {
      current = scanRecorded(graph);
      const { completed, nonFinite, step } = recorder.afterBackward(root as LearnerValue);
      current = undefined;
      if (completed) this.push(completed);
      const user = this.user as UserTraining;
      if (step === 1 || (nonFinite && !this.nonFiniteKept)) user.kept.push({ step, graph, siteId });
      if (nonFinite) this.nonFiniteKept = true;
      user.recent = { step, graph, siteId };
      const now = performance.now();
      if (now - this.lastFlush >= BATCH_MS) this.flush(now);
      this.stopIfAsked();
    };
  }

  private user: UserTraining | undefined;

  private userParameterPaths(users: UserValues): Map<LearnerValue, ParamPath> {
    const roots: PathRoot[] = [];
    const { bindingNames } = this.options;
    for (let id = 0; id < bindingNames.length; id++) if (this.bindingObjects[id] !== undefined) roots.push({ name: bindingNames[id], value: this.bindingObjects[id] });
    const paths = findParameterPaths(roots, (x): x is LearnerValue => users.isValue(x));
    for (const v of paths.keys()) if (hasInputs(v)) paths.delete(v); // only leaves can be parameters
    this.lastUserPaths = paths;
    return paths;
  }

  private lastUserPaths: Map<LearnerValue, ParamPath> | undefined;

  /** The user class's kept steps as graphs (their numbers are those recorded at each backward()). */
  private userGraphs(): WorkerStepGraph[] {
    const user = this.user;
    if (!user) return [];
    const kept = [...user.kept];
    if (user.recent && !kept.some((k) => k.step === user.recent?.step)) kept.push(user.recent);
    const out: WorkerStepGraph[] = [];
    for (const k of kept) {
      if (this.options.nodeLimit !== undefined && k.graph.nodes.length > this.options.nodeLimit) continue;
      const graph = user.users.snapshotOf(k.graph);
      const paths: Record<number, string> = {};
      k.graph.nodes.forEach((v, i) => {
        const found = this.lastUserPaths?.get(v as LearnerValue);
        if (found !== undefined) paths[i] = found.path;
      });
      const labels = packLabels(graph.labels);
      graph.labels = {};
      out.push({ step: k.step, name: "loss", siteId: k.siteId, graph, labels, paths });
    }
    return out;
  }

  afterBackward(root: Value, siteId: number): void {
    const { completed, nonFinite, step, data, grad, order } = this.recorder.afterBackward(root, this.relus);
    this.relus.calls = 0;
    this.relus.dead = 0;
    if (completed) this.push(completed);
    if (step === 1) this.keepNow(root, step, siteId, order);
    else if (nonFinite && !this.nonFiniteKept) this.keepNow(root, step, siteId, order);
    if (nonFinite) this.nonFiniteKept = true;
    this.recent.push({ step, root, siteId, data, grad });
    if (this.recent.length > RECENT_GRAPHS) this.recent.shift();
    const now = performance.now();
    if (step > 1 && now - this.options.started >= this.nextLiveGraphAt) this.keepLive(root, step, siteId, now);
    if (now - this.lastFlush >= BATCH_MS) this.flush(now);
  }

  /** A recent step's graph, taken now (its numbers are exact at its backward()), replacing the previous live one. */
  private keepLive(root: Value, step: number, siteId: number, now: number): void {
    const graph = this.capture(root, step, siteId);
    const cost = performance.now() - now;
    this.nextLiveGraphAt = now - this.options.started + Math.max(LIVE_GRAPH_MS, cost * LIVE_GRAPH_SHARE);
    if (!graph) return;
    if (this.liveStep !== undefined) {
      const at = this.graphs.findIndex((g) => g.step === this.liveStep);
      if (at >= 0) this.graphs.splice(at, 1);
    }
    this.liveStep = step;
    this.graphs.push(graph);
    this.newGraphs.push(graph);
  }

  /**
   * Completes the last step, captures the recent graphs, and sends what is left. `snapshotOf` is
   * the caller's own snapshot of a root it sends anyway (the last backward() of a call site, with
   * its numbers as they were at backward()): a recent step that is that root reuses it instead of
   * walking and copying the same graph a second time.
   */
  finish(snapshotOf?: (root: Value) => SharedSnapshot | undefined): WorkerTrainingOutput {
    const last = this.recorder.finish() ?? this.user?.recorder.finish();
    if (last) this.steps.addLast(last);
    if (last) this.batch.push(last);
    this.flush(performance.now(), last !== undefined);
    // The live graph was a stand-in for the last step's, taken below.
    if (this.liveStep !== undefined && !this.recent.some((r) => r.step === this.liveStep)) {
      const at = this.graphs.findIndex((g) => g.step === this.liveStep);
      if (at >= 0) this.graphs.splice(at, 1);
    }
    const kept = new Set(this.graphs.map((g) => g.step));
    for (const r of this.recent) {
      if (kept.has(r.step)) continue;
      const graph = this.capture(r.root, r.step, r.siteId, r.data, r.grad, snapshotOf?.(r.root));
      if (graph) this.graphs.push(graph);
    }
    this.graphs.push(...this.userGraphs());
    this.graphs.sort((a, b) => a.step - b.step);
    const groups = this.recorder.steps === 0 && this.user ? this.user.recorder.groupNames() : this.recorder.groupNames();
    const out: WorkerTrainingOutput = { steps: this.steps.records, groups, graphs: this.graphs };
    if (this.stoppedAfter !== undefined) out.stoppedAfter = this.stoppedAfter;
    if (this.input.totalSteps !== undefined) out.totalSteps = this.input.totalSteps;
    if (this.steps.stride > 1) out.thinned = { every: this.steps.stride, steps: this.recorder.steps + (this.user?.recorder.steps ?? 0) };
    return out;
  }

  /** A completed record: kept (and streamed) when the step log keeps it. */
  private push(record: StepRecord): void {
    if (!this.steps.keeps(record)) return;
    this.steps.add(record);
    this.batch.push(record);
  }

  private flush(now: number, final = false): void {
    this.lastFlush = now;
    const names = this.recorder.steps === 0 && this.user ? this.user.recorder.groupNames() : this.recorder.groupNames();
    if (this.batch.length === 0 && names.length === this.announcedGroups && this.newGraphs.length === 0) return;
    const progress: WorkerTrainingProgress = { steps: this.batch, newGroups: names.slice(this.announcedGroups) };
    if (this.newGraphs.length > 0) {
      progress.graphFiles = this.newGraphs.flatMap((g) => {
        const file = `${this.input.stopPath}.graph-${g.step}`;
        try {
          writeFileSync(file, serialize(g));
          return [{ step: g.step, file }];
        } catch {
          return []; // no room in the temporary folder: the graph still comes with the result
        }
      });
      progress.graphSteps = this.graphs.map((g) => g.step);
    }
    if (this.steps.stride > 1) progress.stride = this.steps.stride;
    if (final) progress.final = true;
    if (this.input.totalSteps !== undefined) progress.totalSteps = this.input.totalSteps;
    this.announcedGroups = names.length;
    this.batch = [];
    this.newGraphs = [];
    this.options.post(progress);
  }

  /** The first step and the first non-finite one are captured at once (their numbers are exact now), and sent with the next batch. */
  private keepNow(root: Value, step: number, siteId: number, order: Value[] | undefined): void {
    // The step's scan walked this very graph just now: its order serves the snapshot too.
    const graph = this.capture(root, step, siteId, undefined, undefined, order ? { order } : undefined);
    if (!graph) return;
    this.graphs.push(graph);
    this.newGraphs.push(graph);
  }

  /**
   * A graph snapshot; `data`/`grad` (the parameters' numbers at that backward()) put back what the
   * optimizer changed since — the other nodes of a step are not written to by a training loop.
   */
  private capture(root: Value, step: number, siteId: number, data?: Float64Array, grad?: Float64Array, shared?: { order: Value[] } | SharedSnapshot): WorkerStepGraph | undefined {
    const order = shared?.order ?? topologicalOrder(root);
    if (this.options.nodeLimit !== undefined && order.length > this.options.nodeLimit) return undefined;
    const whole = shared && "graph" in shared ? shared : undefined;
    // A shared snapshot's numbers are already those of its backward(); its columns are only read (each message copies them).
    const { graph, labels } = whole ? { graph: { ...whole.graph, labels: {} }, labels: whole.labels() } : snapshotGraphPacked(root, order);
    if (whole) data = grad = undefined;
    // The parameters and named leaves are a few thousand of a graph's tens of thousands of nodes:
    // each finds its position from the slab number left by numberPositions (no pass over the graph).
    const mark = numberPositions(order);
    const paths: Record<number, string> = {};
    for (const [v, found] of this.lastPaths ?? []) {
      const i = positionIn(v, mark);
      if (i >= 0) paths[i] = found.path;
    }
    if (data && grad) {
      const params = this.recorder.params;
      for (let j = 0; j < data.length; j++) {
        const i = positionIn(params[j], mark);
        if (i >= 0) {
          graph.data[i] = data[j];
          graph.grad[i] = grad[j];
        }
      }
    }
    const kept: WorkerStepGraph = { step, name: root.label ?? "loss", siteId, graph, labels, paths };
    const frames = whole ? whole.frames() : this.options.framesFor?.(order);
    if (frames) kept.frames = frames;
    return kept;
  }

  private lastPaths: Map<Value, ParamPath> | undefined;

  private parameterPaths(): Map<Value, ParamPath> {
    const roots: PathRoot[] = [];
    const { bindingNames, boundValues } = this.options;
    for (let id = 0; id < bindingNames.length; id++) {
      const value = this.bindingObjects[id] ?? boundValues[id];
      if (value !== undefined) roots.push({ name: bindingNames[id], value });
    }
    // Only leaves can be parameters (a bound `loss`, or last step's outputs in a list, are not).
    this.lastPaths = findParameterPaths(roots, (x): x is Value => x instanceof Value);
    for (const v of this.lastPaths.keys()) if (v.childCount > 0) this.lastPaths.delete(v);
    return this.lastPaths;
  }
}

/** A value of a learner's class: userValues.ts recognises one only with numeric `data` and `grad`. */
type LearnerValue = UserValue & { data: number; grad: number };

interface UserTraining {
  users: UserValues;
  recorder: StepRecorder<LearnerValue>;
  kept: { step: number; graph: RecordedGraph; siteId: number }[];
  recent: { step: number; graph: RecordedGraph; siteId: number } | undefined;
}

function hasInputs(v: UserValue): boolean {
  for (const key of CHILDREN_KEYS) {
    const x = v[key];
    if (Array.isArray(x)) return x.length > 0;
    if (x instanceof Set) return x.size > 0;
  }
  return false;
}

const RELU_OPS = new Set(["relu", "ReLU", "Relu"]);

/** A step's walk from the graph userValues.ts recorded at backward(): its leaves, ReLUs (by op name) and non-finite numbers. */
function scanRecorded(graph: RecordedGraph): GraphScan<LearnerValue> {
  const leaves: LearnerValue[] = [];
  let relus = 0;
  let deadRelus = 0;
  let finite = 0;
  for (let i = 0; i < graph.nodes.length; i++) {
    const inputs = graph.inputs[i];
    if (inputs.length === 0) leaves.push(graph.nodes[i] as LearnerValue);
    else {
      const v = graph.nodes[i];
      const op = v.op ?? v._op;
      if (typeof op === "string" && RELU_OPS.has(op)) {
        relus++;
        if ((inputs[0].data as number) <= 0) deadRelus++;
      }
    }
    finite += graph.data[i] - graph.data[i] + (graph.grad[i] - graph.grad[i]);
  }
  return { leaves, relus, deadRelus, nonFinite: finite !== 0 };
}
