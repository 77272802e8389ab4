/**
 * Colours for cytoscape, read from VS Code's theme variables. Cytoscape styles are not CSS,
 * so they are re-read whenever the theme changes (the body's class and variables change).
 */
import type { StylesheetJson } from "cytoscape";
import { gradBuckets } from "./graphModel";
import { fontSize } from "./elements";

export type ThemeKind = "light" | "dark" | "high-contrast";

export interface Palette {
  kind: ThemeKind;
  background: string;
  foreground: string;
  border: string;
  edge: string;
  focus: string;
  error: string;
  match: string;
  /** Fill per |grad| bucket, low to high. */
  buckets: string[];
  /** Border per |grad| bucket (strong colours, used alone in high contrast). */
  bucketBorders: string[];
  zeroFill: string;
  font: string;
}

export function themeKind(body: HTMLElement = document.body): ThemeKind {
  if (body.classList.contains("vscode-high-contrast") || body.classList.contains("vscode-high-contrast-light")) return "high-contrast";
  return body.classList.contains("vscode-light") ? "light" : "dark";
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

/** Parses #rgb, #rrggbb(aa) and rgb()/rgba() into [r, g, b]. */
export function parseColour(colour: string): [number, number, number] | undefined {
  const hex = /^#([0-9a-f]{3,8})$/i.exec(colour);
  if (hex) {
    const h = hex[1];
    if (h.length === 3 || h.length === 4) return [0, 1, 2].map((k) => parseInt(h[k] + h[k], 16)) as [number, number, number];
    return [0, 2, 4].map((k) => parseInt(h.slice(k, k + 2), 16)) as [number, number, number];
  }
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(colour);
  if (rgb) {
    const parts = rgb[1].split(/[ ,/]+/).map(Number);
    if (parts.length >= 3 && parts.slice(0, 3).every(Number.isFinite)) return [parts[0], parts[1], parts[2]];
  }
  return undefined;
}

function mix(a: string, b: string, t: number): string {
  const pa = parseColour(a);
  const pb = parseColour(b);
  if (!pa || !pb) return t < 0.5 ? a : b;
  const c = pa.map((x, k) => Math.round(x + (pb[k] - x) * t));
  return `#${c.map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

/** Calls `changed` whenever VS Code switches the theme (it changes the body's classes and variables). */
export function onThemeChange(changed: () => void): void {
  new MutationObserver(changed).observe(document.body, { attributes: true, attributeFilter: ["class", "style"] });
}

export function readPalette(): Palette {
  const kind = themeKind();
  const dark = kind !== "light";
  const background = cssVar("--vscode-editor-background", dark ? "#1e1e1e" : "#ffffff");
  const foreground = cssVar("--vscode-editor-foreground", dark ? "#d4d4d4" : "#000000");
  // Blue → green → yellow: no red in the |grad| scale, so nothing on it looks like the NaN mark.
  const low = cssVar("--vscode-charts-blue", "#3794ff");
  const middle = cssVar("--vscode-charts-green", "#89d185");
  const high = cssVar("--vscode-charts-yellow", "#cca700");
  const ramp: string[] = [];
  for (let b = 0; b < gradBuckets; b++) {
    const t = b / (gradBuckets - 1);
    ramp.push(t < 0.5 ? mix(low, middle, t * 2) : mix(middle, high, (t - 0.5) * 2));
  }
  const hc = kind === "high-contrast";
  return {
    kind,
    background,
    foreground,
    border: hc ? cssVar("--vscode-contrastBorder", foreground) : cssVar("--vscode-editorWidget-border", mix(background, foreground, 0.4)),
    edge: mix(background, foreground, hc ? 0.9 : 0.45),
    focus: cssVar("--vscode-focusBorder", "#007fd4"),
    error: cssVar("--vscode-errorForeground", "#f48771"),
    match: cssVar("--vscode-editor-findMatchHighlightBackground", "#ea5c0055"),
    // High contrast keeps the fill the background (text stays legible) and colours the border.
    buckets: ramp.map((c) => (hc ? background : mix(background, c, 0.4))),
    bucketBorders: ramp,
    zeroFill: hc ? background : mix(background, foreground, 0.08),
    font: cssVar("--vscode-editor-font-family", "monospace"),
  };
}

/** The stylesheet: no function-valued styles (cytoscape's performance guide); sizes come from data. */
export type GraphSize = "small" | "medium" | "large";

/**
 * Small graphs get curved edges (parallel edges, as in `c.add(c)`, stay apart); medium ones
 * straight edges (bundling parallel edges is cytoscape's slowest step); large ones haystack
 * edges without arrows, and labels only once zoomed in.
 */
export function graphStyle(p: Palette, size: GraphSize): StylesheetJson {
  const large = size === "large";
  const hc = p.kind === "high-contrast";
  const style: StylesheetJson = [
    {
      selector: "node",
      style: {
        shape: "rectangle",
        width: "data(w)",
        height: "data(h)",
        label: "data(label)",
        "text-valign": "center",
        "text-halign": "center",
        "text-wrap": "wrap",
        "text-max-width": "1000px",
        "line-height": 1.3,
        "font-family": p.font,
        "font-size": fontSize,
        color: p.foreground,
        "background-color": p.zeroFill,
        "border-width": 1,
        "border-color": p.border,
        "min-zoomed-font-size": size === "large" ? 7 : 4,
      },
    },
    { selector: "node.leaf", style: { shape: "round-rectangle", "border-width": 2, "border-style": "dashed" } },
    { selector: "node.output", style: { "border-width": 4, "border-style": "double", "border-color": p.foreground } },
    { selector: "node.op", style: { shape: "ellipse", "font-size": 12, "background-color": p.background, "border-color": p.edge } },
    { selector: "node.group", style: { shape: "round-rectangle", "border-width": 3, "border-style": "solid", "border-color": p.foreground } },
    { selector: "node.call, node.calls", style: { shape: "cut-rectangle", "font-weight": "bold" } },
    { selector: "node.calls", style: { "border-style": "double", "border-width": 5 } },
    {
      selector: "edge",
      style: {
        width: 1,
        "line-color": p.edge,
        "target-arrow-color": p.edge,
        "target-arrow-shape": large ? "none" : "triangle",
        "curve-style": large ? "haystack" : size === "small" ? "bezier" : "straight",
        "arrow-scale": 0.8,
        // Local gradients on edges read as well as the nodes (11 px at 100 %).
        "font-size": 11,
        color: p.foreground,
        "text-background-color": p.background,
        "text-background-opacity": 1,
        "min-zoomed-font-size": 6,
      },
    },
    { selector: "edge[label]", style: { label: "data(label)" } },
    { selector: "edge.merged", style: { width: "data(weight)" } },
  ];
  for (let b = 0; b < gradBuckets; b++) {
    style.push({
      selector: `node.b${b}`,
      style: hc ? { "border-color": p.bucketBorders[b], "border-width": 3 } : { "background-color": p.buckets[b] },
    });
  }
  style.push(
    { selector: "node.nonfinite", style: { "border-color": p.error, "border-width": 3, "border-style": "dotted", color: p.error } },
    // Where the NaN or Infinity started: a heavy double border and a tinted fill, unlike the nodes it flowed into.
    { selector: "node.origin", style: { "border-color": p.error, "border-width": 7, "border-style": "double", "background-color": mix(p.background, p.error, 0.35), color: p.foreground } },
    { selector: "node.path", style: { "underlay-color": p.focus, "underlay-opacity": 0.45, "underlay-padding": 6 } },
    { selector: "edge.path", style: { "line-color": p.focus, "target-arrow-color": p.focus, width: 3 } },
    { selector: "node.line-hit", style: { "overlay-color": p.focus, "overlay-opacity": 0.25, "overlay-padding": 6 } },
    { selector: "node.match", style: { "underlay-color": p.match, "underlay-opacity": 0.9, "underlay-padding": 8 } },
    { selector: "node:selected", style: { "border-color": p.focus, "border-width": 4 } },
    { selector: "node.anim-active", style: { "border-color": p.focus, "border-width": 5, "border-style": "solid" } },
    { selector: "node.anim-target", style: { "overlay-color": p.bucketBorders[gradBuckets - 1], "overlay-opacity": 0.25, "overlay-padding": 4 } },
    { selector: "node.anim-hidden", style: { opacity: 0.35 } },
    { selector: "edge.anim-edge", style: { "line-color": p.focus, "target-arrow-color": p.focus, width: 3 } },
  );
  return style;
}
