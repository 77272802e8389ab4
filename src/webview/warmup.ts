/**
 * Warms cytoscape's code before the learner's first open. The first draw in a page runs
 * cytoscape's style, edge-geometry and drawing code cold (not yet compiled by the JavaScript
 * engine): measured, that first open of a 56-element level took ~150 ms, the same draw ~40 ms
 * once warm. So once a level the learner may open next is prepared, in idle time, a throwaway
 * instance off screen with the same options and stylesheet draws a sample of it (a few elements
 * of each look) and is destroyed; what the learner sees is never touched.
 */
import cytoscape from "cytoscape";
import type { ElementDefinition } from "cytoscape";
import { canvasOptions, sizeOf } from "./canvas";
import { idle } from "./prepared";
import { graphStyle, type Palette } from "./theme";

/** Nodes of each look (class list) drawn: enough calls for the engine to compile the paths. */
const perLook = 6;
/** Draws: the engine compiles a path after it ran a few times (measured on a microgpt step: first open 148 ms not warmed, 114 ms after one round, 95 ms after four). */
const rounds = 4;

let warmed = false;

/**
 * Draws a sample of `elements` (nodes and edges with positions) `rounds` times, once per page, one
 * round per idle slot (an input in between is served first), then forgets it.
 */
export async function warmOnce(elements: readonly ElementDefinition[], palette: Palette): Promise<void> {
  if (warmed || elements.length === 0) return;
  warmed = true;
  const sample = sampleOf(elements);
  const size = sizeOf(elements.length);
  const box = document.createElement("div");
  // Off screen but laid out: cytoscape draws only into a container with a size.
  box.style.cssText = "position:fixed;left:-10000px;top:0;width:600px;height:400px;";
  box.setAttribute("aria-hidden", "true");
  document.body.append(box);
  const cy = cytoscape({ ...canvasOptions(size === "large"), container: box, elements: [], style: graphStyle(palette, size) });
  const first = sample.find((e) => e.group === "nodes" && e.position);
  // At 100 % around a node, so labels and edges are drawn, not skipped as too small.
  if (first?.position) cy.viewport({ zoom: 1, pan: { x: 300 - first.position.x, y: 200 - first.position.y } });
  for (let round = 0; round < rounds; round++) {
    await new Promise<void>((done) => idle(done));
    // New elements each round: their style, label sizes and edge geometry are worked out again.
    cy.batch(() => {
      cy.elements().remove();
      cy.add(sample.map(copy));
    });
    await nextFrames();
  }
  cy.destroy();
  box.remove();
}

const nextFrames = (): Promise<void> => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));

/** Up to `perLook` nodes of each class list, and the edges between the nodes taken. */
function sampleOf(elements: readonly ElementDefinition[]): ElementDefinition[] {
  const taken = new Set<string>();
  const perClass = new Map<string, number>();
  const nodes: ElementDefinition[] = [];
  for (const e of elements) {
    if (e.group !== "nodes") continue;
    const look = typeof e.classes === "string" ? e.classes : "";
    const n = perClass.get(look) ?? 0;
    if (n >= perLook) continue;
    perClass.set(look, n + 1);
    taken.add(e.data.id as string);
    nodes.push(e);
  }
  const edges = elements.filter((e) => e.group === "edges" && taken.has(e.data.source as string) && taken.has(e.data.target as string));
  return [...nodes, ...edges];
}

const copy = (e: ElementDefinition): ElementDefinition => ({ ...e, data: { ...e.data }, ...(e.position ? { position: { ...e.position } } : {}) });

