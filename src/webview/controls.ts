/**
 * The toolbar (one row at any width from 400 px: what does not fit moves into the "⋯" menu),
 * the breadcrumb of open groups, and the keyboard-reachable buttons of both.
 */
import type { GraphStrings } from "../protocol/messages";
import { el } from "./dom";
import type { Group } from "./hierarchy";

export interface Controls {
  toolbar: HTMLElement;
  breadcrumb: HTMLElement;
  rootSelect: HTMLSelectElement;
  mode: HTMLSelectElement;
  reset: HTMLButtonElement;
  stepBack: HTMLButtonElement;
  play: HTMLButtonElement;
  step: HTMLButtonElement;
  speed: HTMLInputElement;
  stepLabel: HTMLElement;
  search: HTMLInputElement;
  searchCount: HTMLElement;
  zoomOut: HTMLButtonElement;
  zoomIn: HTMLButtonElement;
  zoomReset: HTMLButtonElement;
  fit: HTMLButtonElement;
  up: HTMLButtonElement;
  paths: HTMLButtonElement;
  sideToggle: HTMLButtonElement;
  minimapToggle: HTMLButtonElement;
  exportPng: HTMLButtonElement;
  exportSvg: HTMLButtonElement;
  exportDot: HTMLButtonElement;
  more: HTMLButtonElement;
  menu: HTMLElement;
  /** Re-packs the toolbar after its width or contents changed. */
  relayout(): void;
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
  const search = el("input", { id: "search", type: "search", placeholder: t.searchPlaceholder, "aria-label": t.search, title: `${t.search} (/)` });
  const searchCount = el("span", { id: "search-count", class: "search-count", "aria-live": "polite" });
  const zoomOut = button("zoom-out", "−", `${t.zoomOut} (-)`);
  const zoomIn = button("zoom-in", "+", `${t.zoomIn} (+)`);
  const zoomReset = button("zoom-reset", "1:1", `${t.zoomReset} (0)`);
  const fit = button("fit", "⤢", `${t.fit} (f)`);
  const up = button("up", "⤴", `${t.up} (Backspace)`);
  const paths = button("paths", "⇢◎", `${t.pathsToRoot} (p)`);
  const sideToggle = button("side-toggle", "☰", t.sidePanel);
  const minimapToggle = button("minimap-toggle", "▣", t.minimap);
  const exportPng = button("export-png", t.exportPng, t.exportPng);
  const exportSvg = button("export-svg", t.exportSvg, t.exportSvg);
  const exportDot = button("export-dot", t.exportDot, t.exportDot);
  const more = button("more", "⋯", t.more);
  more.setAttribute("aria-haspopup", "true");
  more.setAttribute("aria-expanded", "false");
  const overflow = el("div", { class: "menu-overflow" });
  const menu = el("div", { class: "menu", id: "menu", role: "menu", hidden: "" },
    overflow,
    el("div", { class: "menu-row" }, mode),
    el("label", { class: "menu-row" }, t.speed, speed),
    el("div", { class: "menu-row" }, paths, minimapToggle),
    el("div", { class: "menu-row" }, exportPng, exportSvg, exportDot));
  const main = el("div", { class: "toolbar-main" },
    rootSelect, reset, stepBack, play, step, stepLabel, search, searchCount, zoomOut, zoomIn, zoomReset, fit, up, sideToggle);
  const toolbar = el("div", { class: "toolbar", role: "toolbar", "aria-label": "GradLens" }, main, more, menu);
  const breadcrumb = el("nav", { class: "breadcrumb", id: "breadcrumb", hidden: "" });
  // Moved into the menu first when the row is too narrow (the step and search controls stay).
  const movable: HTMLElement[] = [sideToggle, zoomReset, up, zoomOut, stepLabel, rootSelect];
  const order = Array.from(main.children);
  const relayout = (): void => {
    main.replaceChildren(...order);
    for (const item of movable) {
      if (main.scrollWidth <= main.clientWidth + 1) break;
      overflow.append(item);
    }
  };
  more.addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    more.setAttribute("aria-expanded", String(!menu.hidden));
  });
  document.addEventListener("pointerdown", (e) => {
    if (!menu.hidden && !toolbar.contains(e.target as Node)) {
      menu.hidden = true;
      more.setAttribute("aria-expanded", "false");
    }
  });
  new ResizeObserver(relayout).observe(toolbar);
  return {
    toolbar, breadcrumb, rootSelect, mode, reset, stepBack, play, step, speed, stepLabel, search, searchCount,
    zoomOut, zoomIn, zoomReset, fit, up, paths, sideToggle, minimapToggle, exportPng, exportSvg, exportDot, more, menu, relayout,
  };
}

/** The toolbar and the breadcrumb, put above the view in `root` and wired to `actions`. */
export function mountControls(root: HTMLElement, t: GraphStrings, actions: ControlActions): Controls {
  const c = buildControls(t);
  root.prepend(c.toolbar, c.breadcrumb);
  bindControls(c, actions);
  return c;
}

/** The root picker lists the run's roots with their sizes; hidden when there is only one. */
export function fillRootPicker(c: Controls, roots: readonly { name: string; graph: { nodeCount: number } }[], index: number): void {
  c.rootSelect.replaceChildren(...roots.map((r, k) => el("option", { value: String(k) }, `${r.name} (${r.graph.nodeCount})`)));
  c.rootSelect.value = String(index);
  c.rootSelect.hidden = roots.length < 2;
}

/** The open groups as links back up (the first is the graph's root); hidden on an ungrouped graph. */
export function renderBreadcrumb(c: Controls, path: Group[], rootName: string, title: (g: Group) => string, up: (levels: number) => void): void {
  c.breadcrumb.hidden = path.length === 0;
  const upHidden = path.length <= 1;
  // Re-packing the toolbar measures it (a forced layout): only when its contents changed.
  const repack = c.up.hidden !== upHidden;
  c.up.hidden = upHidden;
  const crumbs = path.map((g, k) => {
    const last = k === path.length - 1;
    const crumb = el("button", { type: "button", class: "crumb", "data-key": g.key, ...(last ? { "aria-current": "true" } : {}) }, k === 0 ? rootName : title(g));
    crumb.addEventListener("click", () => up(path.length - 1 - k));
    return crumb;
  });
  c.breadcrumb.replaceChildren(...crumbs.flatMap((crumb, k) => (k === 0 ? [crumb] : [el("span", { class: "crumb-sep" }, "›"), crumb])));
  if (repack) c.relayout();
}

/** Steps per second for each position of the speed slider. */
export const speeds = [0.5, 1, 2, 4, 8, 20, 60];

/** What the toolbar's controls do (the controller supplies it). */
export interface ControlActions {
  pickRoot(index: number): void;
  setMode(mode: "backward" | "forward"): void;
  reset(): void;
  stepBy(delta: number): void;
  togglePlay(): void;
  speedChanged(): void;
  search(query: string): void;
  nextMatch(back: boolean): void;
  zoomIn(): void;
  zoomOut(): void;
  zoomReset(): void;
  fit(): void;
  up(): void;
  paths(): void;
  toggleSide(): void;
  toggleMinimap(): void;
  exportFile(format: "png" | "svg" | "dot"): void;
}

export function bindControls(c: Controls, a: ControlActions): void {
  const on = (element: HTMLElement, event: string, handler: () => void): void => element.addEventListener(event, handler);
  on(c.rootSelect, "change", () => a.pickRoot(Number(c.rootSelect.value)));
  on(c.mode, "change", () => a.setMode(c.mode.value === "forward" ? "forward" : "backward"));
  on(c.reset, "click", () => a.reset());
  on(c.stepBack, "click", () => a.stepBy(-1));
  on(c.play, "click", () => a.togglePlay());
  on(c.step, "click", () => a.stepBy(1));
  on(c.speed, "change", () => a.speedChanged());
  on(c.search, "input", () => a.search(c.search.value));
  c.search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") a.nextMatch(e.shiftKey);
  });
  on(c.zoomIn, "click", () => a.zoomIn());
  on(c.zoomOut, "click", () => a.zoomOut());
  on(c.zoomReset, "click", () => a.zoomReset());
  on(c.fit, "click", () => a.fit());
  on(c.up, "click", () => a.up());
  on(c.paths, "click", () => a.paths());
  on(c.sideToggle, "click", () => a.toggleSide());
  on(c.minimapToggle, "click", () => a.toggleMinimap());
  on(c.exportPng, "click", () => a.exportFile("png"));
  on(c.exportSvg, "click", () => a.exportFile("svg"));
  on(c.exportDot, "click", () => a.exportFile("dot"));
}
