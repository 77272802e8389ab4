/**
 * The side panel: the legend (|grad| scale, shapes, the NaN marks), the backprop trace and the
 * list of non-finite nodes. It folds away, opens by itself only in a wide panel, and never takes
 * more than a quarter of the width (graph.css).
 */
import type { GraphStrings } from "../protocol/messages";
import { el, setText } from "./dom";
import { formatNumber } from "./format";
import { gradBuckets, nameOf, opOf, type GraphModel } from "./graphModel";
import type { Palette } from "./theme";

/** Below this panel width the side panel starts folded. */
const openWidth = 900;
const listLimit = 200;

export class SidePanel {
  readonly element = el("aside", { class: "side", id: "side" });
  readonly legend = el("div", { class: "legend", id: "legend" });
  readonly trace = el("div", { class: "trace", id: "trace", "aria-live": "polite" });
  private readonly nonFiniteList = el("ul", { class: "nonfinite-list", id: "nonfinite-list" });
  private readonly nonFiniteTitle = el("h3", {});
  private readonly nonFiniteSection = el("section", { class: "nonfinite", hidden: "" }, this.nonFiniteTitle, this.nonFiniteList);
  private userChoice: boolean | undefined;

  constructor(private readonly onPick: (node: number) => void) {
    this.element.append(this.legend, this.trace, this.nonFiniteSection);
    this.element.hidden = window.innerWidth < openWidth;
  }

  get open(): boolean {
    return !this.element.hidden;
  }

  /** Opens or folds; remembered as the user's choice. */
  setOpen(open: boolean, byUser = true): void {
    if (byUser) this.userChoice = open;
    this.element.hidden = !open;
  }

  restore(open: boolean | undefined): void {
    if (open !== undefined) this.setOpen(open);
    else if (this.userChoice === undefined) this.element.hidden = window.innerWidth < openWidth;
  }

  renderLegend(t: GraphStrings, model: GraphModel, palette: Palette): void {
    const [lo, hi] = model.logGradRange;
    const swatches = el("div", { class: "legend-ramp" });
    for (let b = 0; b < gradBuckets; b++) {
      const from = lo + ((hi - lo) * b) / gradBuckets;
      const swatch = el("span", { class: `swatch b${b}`, title: `≥ 1e${from.toFixed(1)}` });
      // Element styles are allowed by the CSP; style tags are not.
      swatch.style.backgroundColor = palette.bucketBorders[b];
      swatches.append(swatch);
    }
    this.legend.replaceChildren(
      el("h3", {}, t.legendTitle),
      swatches,
      el("div", { class: "legend-scale" }, el("span", {}, `1e${lo.toFixed(1)}`), el("span", {}, `1e${hi.toFixed(1)}`)),
      el("div", { class: "legend-item" }, el("span", { class: "shape leaf" }), t.legendLeaf),
      el("div", { class: "legend-item" }, el("span", { class: "shape intermediate" }), t.legendIntermediate),
      el("div", { class: "legend-item" }, el("span", { class: "shape output" }), t.legendOutput),
      el("div", { class: "legend-item" }, el("span", { class: "shape group" }), t.legendGroup),
      el("div", { class: "legend-item" }, el("span", { class: "shape nonfinite" }), t.legendNonFinite),
      el("div", { class: "legend-item" }, el("span", { class: "shape origin" }), t.legendOrigin),
    );
  }

  renderNonFinite(t: GraphStrings, model: GraphModel): void {
    const list = model.nonFinite;
    this.nonFiniteSection.hidden = list.length === 0;
    setText(this.nonFiniteTitle, t.nonFiniteTitle);
    const s = model.snapshot;
    // The origin first: it is where to look.
    const ordered = model.origin !== undefined ? [model.origin, ...list.filter((i) => i !== model.origin)] : list;
    const items = ordered.slice(0, listLimit).map((i) => {
      const origin = i === model.origin ? ` — ${t.nonFiniteOrigin}` : "";
      const text = `${nameOf(model, i)} (${opOf(model, i) || t.leaf}): ${t.data} ${formatNumber(s.data[i])}, ${t.grad} ${formatNumber(s.grad[i])}${origin}`;
      const item = el("button", { type: "button", class: `nonfinite-item${origin ? " origin" : ""}`, "data-node": String(i) }, text);
      item.addEventListener("click", () => this.onPick(i));
      return el("li", {}, item);
    });
    if (list.length > listLimit) items.push(el("li", {}, `… +${list.length - listLimit}`));
    this.nonFiniteList.replaceChildren(...items);
  }

  showTrace(lines: HTMLElement[]): void {
    this.trace.replaceChildren(...lines);
  }
}
