/** The toolbar and side panel: plain buttons and inputs, reachable with Tab and keyboard shortcuts. */
import type { GraphStrings } from "../protocol/messages";
import { el } from "./dom";

export interface Controls {
  toolbar: HTMLElement;
  rootSelect: HTMLSelectElement;
  mode: HTMLSelectElement;
  reset: HTMLButtonElement;
  stepBack: HTMLButtonElement;
  play: HTMLButtonElement;
  step: HTMLButtonElement;
  speed: HTMLInputElement;
  stepLabel: HTMLElement;
  fit: HTMLButtonElement;
  search: HTMLInputElement;
  searchCount: HTMLElement;
  expandAll: HTMLButtonElement;
  collapseAll: HTMLButtonElement;
  exportPng: HTMLButtonElement;
  exportSvg: HTMLButtonElement;
  exportDot: HTMLButtonElement;
  side: HTMLElement;
  legend: HTMLElement;
  trace: HTMLElement;
  nonFiniteList: HTMLElement;
  nonFiniteSection: HTMLElement;
}

function button(id: string, text: string, title: string): HTMLButtonElement {
  return el("button", { id, type: "button", title, "aria-label": title }, text);
}

export function buildControls(t: GraphStrings): Controls {
  const rootSelect = el("select", { id: "root", "aria-label": t.root });
  const mode = el("select", { id: "mode", "aria-label": t.modeBackward },
    el("option", { value: "backward" }, t.modeBackward),
    el("option", { value: "forward" }, t.modeForward));
  const reset = button("reset", "⇤", `${t.reset} (Home)`);
  const stepBack = button("step-back", "◀", `${t.stepBackward} (←)`);
  const play = button("play", "▶", `${t.play} (Space)`);
  const step = button("step", "▶|", `${t.stepForward} (→)`);
  const speed = el("input", { id: "speed", type: "range", min: "0", max: "6", step: "1", value: "2", title: t.speed, "aria-label": t.speed });
  const stepLabel = el("span", { id: "step-label", class: "step-label", "aria-live": "polite" });
  const fit = button("fit", "⤢", t.fit);
  const search = el("input", { id: "search", type: "search", placeholder: t.searchPlaceholder, "aria-label": t.search });
  const searchCount = el("span", { id: "search-count", class: "search-count", "aria-live": "polite" });
  const expandAll = button("expand-all", "⊞", t.expandAll);
  const collapseAll = button("collapse-all", "⊟", t.collapseAll);
  const exportPng = button("export-png", t.exportPng, t.exportPng);
  const exportSvg = button("export-svg", t.exportSvg, t.exportSvg);
  const exportDot = button("export-dot", t.exportDot, t.exportDot);
  const toolbar = el("div", { class: "toolbar", role: "toolbar", "aria-label": "GradLens" },
    rootSelect,
    el("span", { class: "group-sep" }),
    mode, reset, stepBack, play, step, speed, stepLabel,
    el("span", { class: "group-sep" }),
    fit, search, searchCount,
    el("span", { class: "group-sep" }),
    expandAll, collapseAll,
    el("span", { class: "group-sep" }),
    exportPng, exportSvg, exportDot);
  const legend = el("div", { class: "legend", id: "legend" });
  const trace = el("div", { class: "trace", id: "trace", "aria-live": "polite" });
  const nonFiniteList = el("ul", { class: "nonfinite-list", id: "nonfinite-list" });
  const nonFiniteSection = el("section", { class: "nonfinite", hidden: "" }, el("h3", {}, t.nonFiniteTitle), nonFiniteList);
  const side = el("aside", { class: "side" }, legend, trace, nonFiniteSection);
  return {
    toolbar, rootSelect, mode, reset, stepBack, play, step, speed, stepLabel, fit, search, searchCount,
    expandAll, collapseAll, exportPng, exportSvg, exportDot, side, legend, trace, nonFiniteList, nonFiniteSection,
  };
}

/** Steps per second for each position of the speed slider. */
export const speeds = [0.5, 1, 2, 4, 8, 20, 60];
