/**
 * The typed messages between the extension host and the graph view — the only contract
 * between the two sides. Both import this file; nothing else crosses the boundary.
 *
 * VS Code's webview messaging does not carry typed arrays faithfully in every version, and
 * JSON has no NaN or ±Infinity, so graphs travel in an explicit wire format: plain arrays,
 * with non-finite numbers written as the strings of `JsonNumber`.
 */
import { snapshotFromJson, snapshotToJson } from "../engine/snapshot";
import type { SnapshotJson } from "../engine/snapshot";
import type { RootGraph, RunError, RunResult, SourceSite } from "./result";

/** A `GraphSnapshot` as plain JSON (the engine defines the form). */
export type WireGraph = SnapshotJson;

export interface WireRoot {
  name: string;
  reason: RootGraph["reason"];
  graph: WireGraph;
  truncated?: boolean;
}

/** The part of a `RunResult` the view needs. */
export interface WireResult {
  file: string;
  language: RunResult["language"];
  roots: WireRoot[];
  sites: SourceSite[];
  /** Why there is no graph (for example "too-large": more nodes than the runner's limit). */
  error?: RunError;
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
  search: string;
  searchPlaceholder: string;
  noMatch: string;
  exportPng: string;
  exportSvg: string;
  exportDot: string;
  expandAll: string;
  collapseAll: string;
  group: string;
  expand: string;
  collapse: string;
  instances: string;
  legendTitle: string;
  legendLeaf: string;
  legendIntermediate: string;
  legendOutput: string;
  legendNonFinite: string;
  nonFiniteTitle: string;
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
}

export interface ViewSettings {
  /** Above this many nodes the view groups nodes by source site. */
  groupThreshold: number;
  /** Above this many nodes the view shows a message instead of a graph. */
  nodeLimit: number;
}

/** Extension → webview. */
export type HostMessage =
  | { type: "showGraph"; result: WireResult; rootIndex: number; strings: GraphStrings; settings: ViewSettings }
  | { type: "revealNode"; rootIndex: number; nodeId: number }
  | { type: "highlightLine"; file: string; line: number }
  | { type: "noGraph"; message: string };

export type ExportFormat = "png" | "svg" | "dot";

/** Webview → extension. */
export type ViewMessage =
  | { type: "ready" }
  | { type: "revealSource"; file: string; line: number; column: number }
  /** PNG comes as a data URL; SVG and DOT as text. */
  | { type: "exportFile"; format: ExportFormat; data: string }
  | { type: "state"; state: ViewState }
  | { type: "error"; message: string }
  /** Posted after every full render (the integration test and the benchmark wait for it). */
  | { type: "rendered"; nodeCount: number; visibleNodes: number; elementCount: number; grouped: boolean; tooLarge: boolean; ms: number };

/** What the view remembers across hide/show and reload (kept with `setState`). */
export interface ViewState {
  rootIndex: number;
  /** Which graph the rest belongs to (file, root, node count): a new run resets the view. */
  graphKey?: string;
  zoom?: number;
  pan?: { x: number; y: number };
  selected?: string;
  /** Source-expression groups shown node by node. */
  expandedGroups: string[];
  /** Functions folded into one node. */
  collapsedFunctions: string[];
  animation?: { mode: "backward" | "forward"; step: number };
  search?: string;
}

export const toWireGraph = snapshotToJson;
export const fromWireGraph = snapshotFromJson;

export function toWireResult(r: RunResult): WireResult {
  return {
    file: r.file,
    language: r.language,
    roots: r.roots.map((root) => ({ name: root.name, reason: root.reason, graph: toWireGraph(root.graph), truncated: root.truncated })),
    sites: r.sites,
    error: r.error,
  };
}

