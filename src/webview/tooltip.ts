/** The hover card: label, op, data, grad, the local gradient on each incoming edge, and the source. */
import type { GraphStrings } from "../protocol/messages";
import { el } from "./dom";
import { formatNumber } from "./format";
import { groupTitle } from "./captions";
import { type GraphModel, localGradUnknown, nameOf, opOf, roleOf } from "./graphModel";
import type { Group, Hierarchy } from "./hierarchy";

export class Tooltip {
  readonly element = el("div", { class: "tooltip", role: "tooltip", hidden: "" });

  constructor(private readonly strings: () => GraphStrings) {}

  hide(): void {
    this.element.hidden = true;
  }

  /** Places the card next to a point in the graph container, kept inside it. */
  showAt(x: number, y: number, rows: HTMLElement[]): void {
    this.element.replaceChildren(...rows);
    this.element.hidden = false;
    const box = this.element.parentElement?.getBoundingClientRect();
    const w = this.element.offsetWidth;
    const h = this.element.offsetHeight;
    const maxX = (box?.width ?? 1e9) - w - 4;
    const maxY = (box?.height ?? 1e9) - h - 4;
    this.element.style.left = `${Math.max(4, Math.min(x + 14, maxX))}px`;
    this.element.style.top = `${Math.max(4, Math.min(y + 14, maxY))}px`;
  }

  /** `animatedGrad`: the running grad while stepping backward (null: unknown so far). */
  nodeRows(model: GraphModel, i: number, animatedGrad: number | null | undefined, hierarchy?: Hierarchy): HTMLElement[] {
    const t = this.strings();
    const s = model.snapshot;
    const op = opOf(model, i);
    const role = { leaf: t.leaf, intermediate: t.legendIntermediate, output: t.legendOutput }[roleOf(model, i)];
    const rows = [
      el("div", { class: "tooltip-title" }, nameOf(model, i), el("span", { class: "tooltip-role" }, ` ${role}`)),
      row(t.op, op || t.leaf, "op"),
      row(t.data, formatNumber(s.data[i]), "data"),
      row(t.grad, formatNumber(s.grad[i]), "grad"),
    ];
    if (animatedGrad !== undefined) rows.push(row(t.runningGrad, animatedGrad === null ? t.unknown : formatNumber(animatedGrad), "anim-grad"));
    const edges = s.childStart[i + 1] - s.childStart[i];
    if (edges > 0) {
      rows.push(el("div", { class: "tooltip-heading" }, t.localGrad));
      for (let e = s.childStart[i]; e < s.childStart[i + 1]; e++) {
        const c = s.child[e];
        rows.push(row(`∂/∂${nameOf(model, c)}`, localGradUnknown(model, e) ? t.unknownLocalGrad : formatNumber(s.localGrad[e]), "local"));
      }
    }
    const stack = hierarchy?.stackOf(i) ?? [];
    if (stack.length > 0) rows.push(el("div", { class: "tooltip-stack", "data-field": "stack" }, stack.map((k) => hierarchy?.functionTitle(k)).join(" › ")));
    rows.push(this.sourceRow(model, s.site[i]));
    return rows;
  }

  groupRows(model: GraphModel, group: Group, members: number[]): HTMLElement[] {
    const t = this.strings();
    const title = groupTitle(t, group);
    let maxGrad = 0;
    let nonFinite = 0;
    for (const i of members) {
      const g = model.snapshot.grad[i];
      if (!Number.isFinite(g) || !Number.isFinite(model.snapshot.data[i])) nonFinite++;
      else maxGrad = Math.max(maxGrad, Math.abs(g));
    }
    const rows = [
      el("div", { class: "tooltip-title" }, title),
      row(t.instances, String(group.count), "count"),
      row(t.maxGrad, formatNumber(maxGrad), "grad"),
    ];
    if (nonFinite > 0) rows.push(row(t.legendNonFinite, String(nonFinite), "nonfinite"));
    rows.push(this.sourceRow(model, group.site));
    return rows;
  }

  private sourceRow(model: GraphModel, siteId: number): HTMLElement {
    const t = this.strings();
    const site = siteId > 0 ? model.sites[siteId] : undefined;
    if (!site) return row(t.source, t.unknownSource, "source");
    const file = site.file.split(/[\\/]/).pop() ?? site.file;
    const where = `${file}:${site.line}:${site.column}${site.functionName ? ` (${site.functionName})` : ""}`;
    const r = row(t.source, where, "source");
    r.append(el("div", { class: "tooltip-code" }, site.text));
    return r;
  }
}

function row(name: string, value: string, field: string): HTMLElement {
  return el("div", { class: "tooltip-row", "data-field": field }, el("span", { class: "tooltip-key" }, name), el("span", { class: "tooltip-value" }, value));
}
