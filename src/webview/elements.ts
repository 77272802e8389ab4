/**
 * Cytoscape elements for one level: micrograd's record on three lines (name, data, grad), an op
 * node per operation on small graphs (a badge in the label above that), group nodes with their
 * size, and the input for the layered layout (columns from the longest-path layers).
 */
import type { ElementDefinition } from "cytoscape";
import type { GraphStrings } from "../protocol/messages";
import { formatNumber } from "./format";
import { groupCaption, groupTitle } from "./captions";
import { gradBucket, localGradUnknown, nameOf, opOf, roleOf, type GraphModel } from "./graphModel";
import type { Group, Hierarchy } from "./hierarchy";
import { itemElementId, type Level } from "./level";
import type { LayoutInput } from "./layout";

/** The node label font (CSS px at zoom 1; theme.ts uses the same). */
export const fontSize = 12;
const charWidth = fontSize * 0.6;
const lineHeight = fontSize * 1.3;
/** Up to this many nodes each op is a node of its own (micrograd's picture); above, a badge in the label. */
export const opNodeLimit = 600;
/** Edge labels (local gradients) only on graphs this small. */
const edgeLabelLimit = 120;

export interface BuiltLevel {
  elements: ElementDefinition[];
  layout: LayoutInput;
  /** Element ids in layout order (positions come back in this order). */
  ids: string[];
}

export interface LabelContext {
  model: GraphModel;
  strings: GraphStrings;
  hierarchy: Hierarchy | undefined;
}

function box(lines: string[]): { w: number; h: number } {
  let widest = 0;
  for (const line of lines) widest = Math.max(widest, line.length);
  return { w: Math.ceil(widest * charWidth + 18), h: Math.ceil(lines.length * lineHeight + 12) };
}

/** The record: name (with the op as a badge when asked), data, grad (null: unknown while stepping). */
export function valueLines(c: LabelContext, i: number, withOp: boolean, grad: number | null = c.model.snapshot.grad[i], dataKnown = true): string[] {
  const s = c.model.snapshot;
  const op = withOp ? opOf(c.model, i) : "";
  const warn = !Number.isFinite(s.data[i]) || (grad !== null && !Number.isFinite(grad)) ? "⚠ " : "";
  return [`${warn}${op ? `${op} · ` : ""}${nameOf(c.model, i)}`, `${c.strings.data} ${dataKnown ? formatNumber(s.data[i]) : "?"}`, `${c.strings.grad} ${grad === null ? c.strings.unknown : formatNumber(grad)}`];
}

/** Role, |grad| colour and NaN marks; an unknown grad (null) gets no colour and no NaN mark. */
export function valueClasses(model: GraphModel, i: number, grad: number | null): string {
  const s = model.snapshot;
  const bucket = grad === null ? -1 : gradBucket(model, grad);
  const nonFinite = !Number.isFinite(s.data[i]) || (grad !== null && !Number.isFinite(grad));
  return `value ${roleOf(model, i)}${bucket >= 0 ? ` b${bucket}` : ""}${nonFinite ? " nonfinite" : ""}${model.origin === i ? " origin" : ""}`;
}

export function groupLines(c: LabelContext, g: Group): string[] {
  return [groupTitle(c.strings, g), groupCaption(c.strings, c.model, g)];
}

/** An edge's local gradient as drawn on it. */
function localGradText(c: LabelContext, e: number): string {
  return localGradUnknown(c.model, e) ? c.strings.unknown : formatNumber(c.model.snapshot.localGrad[e]);
}

interface GroupLook {
  classes: string;
  /** The mean layer of its values (where the group sits left to right). */
  layer: number;
}

/** Per group, computed once: a group's values do not change while its graph is shown. */
const looks = new WeakMap<Group, GroupLook>();

/** The group's marks (largest |grad|, non-finite, origin, output) and mean layer, in one pass over its values. */
function groupLook(c: LabelContext, g: Group): GroupLook {
  const known = looks.get(g);
  if (known) return known;
  const { snapshot: s, layer, origin } = c.model;
  const { grad, data } = s;
  let maxGrad = 0;
  let nonFinite = false;
  let output = false;
  let holdsOrigin = false;
  let layers = 0;
  const members = c.hierarchy?.members(g) ?? [];
  for (let k = 0; k < members.length; k++) {
    const i = members[k];
    const gi = grad[i];
    // x − x is 0 for finite x, NaN otherwise.
    if (gi - gi !== 0 || data[i] - data[i] !== 0) nonFinite = true;
    else if (Math.abs(gi) > maxGrad) maxGrad = Math.abs(gi);
    if (i === s.root) output = true;
    if (i === origin) holdsOrigin = true;
    layers += layer[i];
  }
  const bucket = gradBucket(c.model, maxGrad);
  const look = {
    classes: `group ${g.kind}${bucket >= 0 ? ` b${bucket}` : ""}${nonFinite ? " nonfinite" : ""}${holdsOrigin ? " origin" : ""}${output ? " output" : ""}`,
    layer: members.length > 0 ? Math.round(layers / members.length) : 0,
  };
  looks.set(g, look);
  return look;
}

export function buildLevel(c: LabelContext, level: Level): BuiltLevel {
  const { model } = c;
  const s = model.snapshot;
  const elements: ElementDefinition[] = [];
  const ids: string[] = [];
  const columns: number[] = [];
  const widths: number[] = [];
  const heights: number[] = [];
  const index = new Map<string, number>();
  const add = (definition: ElementDefinition, column: number): void => {
    const id = definition.data.id as string;
    index.set(id, ids.length);
    ids.push(id);
    elements.push(definition);
    columns.push(column);
    widths.push(definition.data.w as number);
    heights.push(definition.data.h as number);
  };
  const edges: ElementDefinition[] = [];
  const edge = (from: string, to: string, data: Record<string, unknown>, classes = ""): void => {
    edges.push({ group: "edges", data: { id: `e${edges.length}`, source: from, target: to, ...data }, classes });
  };
  const valueNode = (i: number, withOp: boolean): ElementDefinition => {
    const lines = valueLines(c, i, withOp);
    // `data.classes` remembers the value's own classes, so marks.ts changes only those.
    const classes = valueClasses(model, i, s.grad[i]);
    return { group: "nodes", data: { id: `n${i}`, label: lines.join("\n"), ...box(lines), node: i, classes }, classes };
  };
  const flat = level.group === undefined;
  if (flat && s.nodeCount <= opNodeLimit) {
    const labels = s.nodeCount <= edgeLabelLimit;
    for (let i = 0; i < s.nodeCount; i++) {
      add(valueNode(i, false), 2 * model.layer[i]);
      if (s.childStart[i + 1] === s.childStart[i]) continue;
      const op = opOf(model, i);
      add({ group: "nodes", data: { id: `o${i}`, label: op, w: Math.max(30, op.length * charWidth + 16), h: 30, op: i }, classes: "op" }, 2 * model.layer[i] - 1);
      edge(`o${i}`, `n${i}`, {});
      for (let e = s.childStart[i]; e < s.childStart[i + 1]; e++) edge(`n${s.child[e]}`, `o${i}`, labels ? { label: localGradText(c, e), edge: e } : { edge: e });
    }
  } else if (flat) {
    for (let i = 0; i < s.nodeCount; i++) {
      add(valueNode(i, true), model.layer[i]);
      for (let e = s.childStart[i]; e < s.childStart[i + 1]; e++) edge(`n${s.child[e]}`, `n${i}`, { edge: e });
    }
  } else {
    // Columns of items: the mean layer of their members, packed so the picture is not a thin line.
    const raw: number[] = [];
    level.items.forEach((item) => {
      if (item.kind === "node") {
        add(valueNode(item.node, true), 0);
        raw.push(model.layer[item.node]);
        return;
      }
      const lines = groupLines(c, item.group);
      const look = groupLook(c, item.group);
      add({ group: "nodes", data: { id: itemElementId(item), label: lines.join("\n"), ...box(lines), group: item.group.key, count: item.group.count }, classes: look.classes }, 0);
      raw.push(look.layer);
    });
    packColumns(raw, columns);
    for (const e of level.edges) {
      edge(itemElementId(level.items[e.from]), itemElementId(level.items[e.to]), { weight: Math.min(8, 1 + Math.log2(e.count)), count: e.count }, "merged");
    }
  }
  const edgeFrom: number[] = [];
  const edgeTo: number[] = [];
  for (const e of edges) {
    const from = index.get(e.data.source as string);
    const to = index.get(e.data.target as string);
    if (from !== undefined && to !== undefined) {
      edgeFrom.push(from);
      edgeTo.push(to);
    }
  }
  const layout: LayoutInput = {
    count: ids.length,
    column: Int32Array.from(columns),
    edgeFrom: Int32Array.from(edgeFrom),
    edgeTo: Int32Array.from(edgeTo),
    width: Float32Array.from(widths),
    height: Float32Array.from(heights),
    gapX: flat ? 36 : 70,
    gapY: 14,
    sweeps: ids.length > 20000 ? 2 : 4,
  };
  return { elements: elements.concat(edges), layout, ids };
}

/**
 * Columns for grouped items from their mean layer: numbered densely, and when that would make
 * a long thin line (each group alone in its column), several items of neighbouring layers
 * share a column, so the overview is about as wide as it is tall.
 */
export function packColumns(layer: number[], out: number[]): void {
  const count = layer.length;
  const distinct = [...new Set(layer)].sort((a, b) => a - b);
  const target = Math.ceil(Math.sqrt(2 * count));
  if (distinct.length <= target) {
    const dense = new Map(distinct.map((col, k) => [col, k]));
    for (let k = 0; k < count; k++) out[k] = dense.get(layer[k]) as number;
    return;
  }
  const order = Array.from({ length: count }, (_, k) => k).sort((a, b) => layer[a] - layer[b] || a - b);
  const perColumn = Math.ceil(count / target);
  order.forEach((item, rank) => (out[item] = Math.floor(rank / perColumn)));
}
