/**
 * The typed messages between the extension host and the graph view — the only contract
 * between the two sides. Both import this file; nothing else crosses the boundary.
 *
 * Graph columns cross as typed arrays: VS Code's webview messaging (since 1.57) moves their
 * buffers as binary, so the host never turns a 136k-node graph into JSON, and NaN and
 * ±Infinity need no encoding. Labels, the one per-node field that is not a column, are packed
 * into two index arrays and a table of distinct names. Whatever one side receives it checks
 * (`readViewMessage`, `readHostMessage`) before using it.
 */
import type { GraphSnapshot } from "../engine/snapshot";
import type { CallFrames, NonFiniteReport, ParameterPaths, RootGraph, RunError, RunResult, SourceSite } from "./result";
import { isRecord, isString } from "./guards";

/** Labels by node: `names[nameIndex[k]]` labels node `ids[k]`. */
export interface PackedNames {
  ids: Uint32Array;
  nameIndex: Uint32Array;
  names: string[];
}

/** A `GraphSnapshot` with its labels packed (every other field is already a column). */
export type WireGraph = Omit<GraphSnapshot, "labels"> & { labels: PackedNames };

export interface WireRoot {
  name: string;
  reason: RootGraph["reason"];
  graph: WireGraph;
  truncated?: boolean;
  frames?: CallFrames;
  parameterPaths?: ParameterPaths;
  /** Edges whose local gradient is unknown (`RootGraph.unknownLocalGrad`). */
  unknownLocalGrad?: number[];
}

/** The part of a `RunResult` the view needs. */
export interface WireResult {
  file: string;
  language: RunResult["language"];
  roots: WireRoot[];
  sites: SourceSite[];
  /** Why there is no graph (for example "too-large": more nodes than the runner's limit). */
  error?: RunError;
  /** The first value that went non-finite (the view marks it as the origin). */
  nonFinite?: Pick<NonFiniteReport, "root" | "id" | "field">;
}

/** Every string the view shows; the extension localises them (`vscode.l10n.t`). */
export interface GraphStrings {
  play: string;
  pause: string;
  stepForward: string;
  stepBackward: string;
  reset: string;
  speed: string;
  modeBackward: string;
  modeForward: string;
  fit: string;
  zoomIn: string;
  zoomOut: string;
  zoomReset: string;
  more: string;
  search: string;
  searchPlaceholder: string;
  noMatch: string;
  exportPng: string;
  exportSvg: string;
  exportDot: string;
  up: string;
  pathsToRoot: string;
  sidePanel: string;
  minimap: string;
  instances: string;
  topLevel: string;
  legendTitle: string;
  legendLeaf: string;
  legendIntermediate: string;
  legendOutput: string;
  legendNonFinite: string;
  legendOrigin: string;
  legendGroup: string;
  nonFiniteTitle: string;
  nonFiniteOrigin: string;
  stale: string;
  /** Shown over the previous graph while a big one is built: {0} the graph's name, {1} its node count. */
  drawing: string;
  data: string;
  grad: string;
  op: string;
  leaf: string;
  localGrad: string;
  source: string;
  unknownSource: string;
  root: string;
  tooLarge: string;
  truncated: string;
  grouped: string;
  empty: string;
  forwardStep: string;
  backwardStart: string;
  backwardDone: string;
  forwardDone: string;
  groupStep: string;
  /** Group captions and titles (captions.ts). */
  groupSize: string;
  groupSizeAtLine: string;
  callNumber: string;
  callCount: string;
  partOf: string;
  constants: string;
  maxGrad: string;
  runningGrad: string;
  /** A local gradient (or a grad that depends on one) nobody can know: a closure-based engine keeps it inside its `_backward`. */
  unknown: string;
  unknownLocalGrad: string;
}

export interface ViewSettings {
  /** Above this many nodes the view groups nodes by call and source expression. */
  groupThreshold: number;
  /** Above this many nodes the view shows a message instead of a graph. */
  nodeLimit: number;
}

/** Extension → webview. */
export type HostMessage =
  | { type: "showGraph"; result: WireResult; rootIndex: number; strings: GraphStrings; settings: ViewSettings }
  | { type: "revealNode"; rootIndex: number; nodeId: number }
  | { type: "highlightLine"; file: string; line: number }
  | { type: "stale"; stale: boolean }
  | { type: "noGraph"; message: string };

export type ExportFormat = "png" | "svg" | "dot";

export type RenderedReport = {
  type: "rendered";
  nodeCount: number;
  visibleNodes: number;
  elementCount: number;
  grouped: boolean;
  tooLarge: boolean;
  /** From the message to the last element drawn. */
  ms: number;
  /** From the message to the first view drawn (the rest of a big level follows in slices). */
  firstPaintMs?: number;
};

/** Webview → extension. */
export type ViewMessage =
  | { type: "ready" }
  | { type: "revealSource"; file: string; line: number; column: number }
  /** PNG comes as a data URL; SVG and DOT as text. */
  | { type: "exportFile"; format: ExportFormat; data: string }
  | { type: "state"; state: ViewState }
  | { type: "error"; message: string }
  /** Posted after every full render (the integration test and the benchmark wait for it). */
  | RenderedReport;

/** What the view remembers across hide/show and reload (kept with `setState`). */
export interface ViewState {
  rootIndex: number;
  /** Which graph the rest belongs to (file, root, node count): a new run resets the view. */
  graphKey?: string;
  zoom?: number;
  pan?: { x: number; y: number };
  /** The user moved the view: a resize keeps it instead of fitting again. */
  moved?: boolean;
  selected?: string;
  /** The open group's path, outermost first (grouped graphs). */
  path?: string[];
  animation?: { mode: "backward" | "forward"; step: number };
  search?: string;
  sideOpen?: boolean;
}

/** Packs a snapshot's labels; every other column is passed as it is (no copy). */
export function toWireGraph(s: GraphSnapshot): WireGraph {
  const { labels, ...columns } = s;
  return { ...columns, labels: packNames(labels) };
}

export function fromWireGraph(w: WireGraph): GraphSnapshot {
  const { labels, ...columns } = w;
  const out: Record<number, string> = {};
  for (let k = 0; k < labels.ids.length; k++) out[labels.ids[k]] = labels.names[labels.nameIndex[k]];
  return { ...columns, labels: out };
}

export function toWireResult(r: RunResult): WireResult {
  const wire: WireResult = {
    file: r.file,
    language: r.language,
    roots: r.roots.map((root) => {
      const w: WireRoot = { name: root.name, reason: root.reason, graph: toWireGraph(root.graph) };
      if (root.truncated) w.truncated = true;
      if (root.frames) w.frames = root.frames;
      if (root.parameterPaths) w.parameterPaths = root.parameterPaths;
      if (root.unknownLocalGrad?.length) w.unknownLocalGrad = root.unknownLocalGrad;
      return w;
    }),
    sites: r.sites,
  };
  if (r.error) wire.error = r.error;
  if (r.nonFinite) wire.nonFinite = { root: r.nonFinite.root, id: r.nonFinite.id, field: r.nonFinite.field };
  return wire;
}

function packNames(labels: Record<number, string>): PackedNames {
  const keys = Object.keys(labels);
  const ids = new Uint32Array(keys.length);
  const nameIndex = new Uint32Array(keys.length);
  const names: string[] = [];
  const indexOf = new Map<string, number>();
  for (let k = 0; k < keys.length; k++) {
    const name = labels[Number(keys[k])];
    let n = indexOf.get(name);
    if (n === undefined) {
      n = names.length;
      names.push(name);
      indexOf.set(name, n);
    }
    ids[k] = Number(keys[k]);
    nameIndex[k] = n;
  }
  return { ids, nameIndex, names };
}

// ---- reading what the other side sent --------------------------------------------------

// A position, an index or a count from the other side: a number, and finite.
const isNumber = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

function readViewState(x: unknown): ViewState | undefined {
  if (!isRecord(x) || !isNumber(x.rootIndex)) return undefined;
  // Only the host reads rootIndex; the rest is the view's own and goes back to it unread.
  return x as unknown as ViewState;
}

/** A message from the webview, checked field by field; undefined if it is not one. */
export function readViewMessage(x: unknown): ViewMessage | undefined {
  if (!isRecord(x) || !isString(x.type)) return undefined;
  switch (x.type) {
    case "ready":
      return { type: "ready" };
    case "revealSource":
      return isString(x.file) && isNumber(x.line) && isNumber(x.column) ? { type: "revealSource", file: x.file, line: x.line, column: x.column } : undefined;
    case "exportFile":
      return (x.format === "png" || x.format === "svg" || x.format === "dot") && isString(x.data) ? { type: "exportFile", format: x.format, data: x.data } : undefined;
    case "state": {
      const state = readViewState(x.state);
      return state ? { type: "state", state } : undefined;
    }
    case "error":
      return isString(x.message) ? { type: "error", message: x.message.slice(0, 2000) } : undefined;
    case "rendered": {
      const fields = ["nodeCount", "visibleNodes", "elementCount", "ms"] as const;
      if (!fields.every((f) => typeof x[f] === "number") || typeof x.grouped !== "boolean" || typeof x.tooLarge !== "boolean") return undefined;
      const rendered: RenderedReport = { type: "rendered", nodeCount: x.nodeCount as number, visibleNodes: x.visibleNodes as number, elementCount: x.elementCount as number, grouped: x.grouped, tooLarge: x.tooLarge, ms: x.ms as number };
      if (isNumber(x.firstPaintMs)) rendered.firstPaintMs = x.firstPaintMs;
      return rendered;
    }
    default:
      return undefined;
  }
}

/** Checks that a graph's columns are typed arrays of consistent lengths (a bad message must not crash the view). */
export function isWireGraph(x: unknown): x is WireGraph {
  if (!isRecord(x) || !isNumber(x.nodeCount)) return false;
  const n = x.nodeCount;
  const cs = x.childStart;
  if (!(cs instanceof Uint32Array) || cs.length !== n + 1) return false;
  const edges = cs[n];
  const ok =
    x.op instanceof Uint16Array && x.op.length === n &&
    x.data instanceof Float64Array && x.data.length === n &&
    x.grad instanceof Float64Array && x.grad.length === n &&
    x.site instanceof Int32Array && x.site.length === n &&
    x.child instanceof Uint32Array && x.child.length === edges &&
    x.localGrad instanceof Float64Array && x.localGrad.length === edges &&
    Array.isArray(x.opNames) && isRecord(x.labels) && (x.labels as { ids?: unknown }).ids instanceof Uint32Array;
  return ok && (n === 0 || x.root === n - 1);
}

/** A message from the host, its graphs checked; undefined if it is not one. */
export function readHostMessage(x: unknown): HostMessage | undefined {
  if (!isRecord(x) || !isString(x.type)) return undefined;
  switch (x.type) {
    case "showGraph": {
      const r = x.result;
      if (!isRecord(r) || !Array.isArray(r.roots) || !Array.isArray(r.sites) || !isNumber(x.rootIndex) || !isRecord(x.strings) || !isRecord(x.settings)) return undefined;
      if (!r.roots.every((root: unknown) => isRecord(root) && isString(root.name) && isWireGraph(root.graph))) return undefined;
      return x as unknown as HostMessage;
    }
    case "revealNode":
      return isNumber(x.rootIndex) && isNumber(x.nodeId) ? { type: "revealNode", rootIndex: x.rootIndex, nodeId: x.nodeId } : undefined;
    case "highlightLine":
      return isString(x.file) && isNumber(x.line) ? { type: "highlightLine", file: x.file, line: x.line } : undefined;
    case "stale":
      return { type: "stale", stale: x.stale === true };
    case "noGraph":
      return isString(x.message) ? { type: "noGraph", message: x.message } : undefined;
    default:
      return undefined;
  }
}
