/**
 * What the view marks on the elements of a level: search matches, the paths to the output, the
 * nodes of the editor's line, and the backprop step (labels with the running grads, the active item).
 * Each mark is a class on the level's items (a value's own node, or the group that holds it).
 */
import type { Core } from "cytoscape";
import { valueClasses, valueLines, opNodeLimit, type LabelContext } from "./elements";
import type { SourceSite } from "../protocol/result";
import { itemElementId, type Level } from "./level";
import { pathsToRoot } from "./search";
import type { Stepper } from "./stepper";

/** The elements that hold these nodes on this level. */
export function elementsHolding(level: Level, nodes: Iterable<number>): Set<string> {
  const ids = new Set<string>();
  for (const i of nodes) if (level.rep[i] >= 0) ids.add(itemElementId(level.items[level.rep[i]]));
  return ids;
}

function mark(cy: Core, cls: string, ids: Set<string>): void {
  cy.batch(() => {
    cy.elements(`.${cls}`).removeClass(cls);
    for (const id of ids) cy.getElementById(id).addClass(cls);
  });
}

export function markMatches(cy: Core, level: Level, matches: number[]): void {
  mark(cy, "match", elementsHolding(level, matches));
}

/** Every item the gradient flows through from `starts` to the output, and the edges between them. */
export function markPaths(cy: Core, level: Level, c: LabelContext, starts: readonly number[]): void {
  cy.elements(".path").removeClass("path");
  if (starts.length === 0) return;
  const on = pathsToRoot(c.model, starts);
  const nodes: number[] = [];
  for (let i = 0; i < on.length; i++) if (on[i]) nodes.push(i);
  const items = elementsHolding(level, nodes);
  cy.batch(() => {
    for (const id of items) cy.getElementById(id).addClass("path");
    cy.edges().filter((e) => items.has(e.source().id()) && items.has(e.target().id())).addClass("path");
    // Op nodes between two path values are on the path too.
    cy.nodes(".op").filter((o) => items.has(`n${o.data("op") as number}`)).addClass("path");
  });
}

/** The paths from the selected node (or every member of the selected group) to the output. */
export function markSelectedPaths(cy: Core, level: Level, c: LabelContext): void {
  const selected = cy.nodes(":selected").first();
  const data = selected.nonempty() ? (selected.data() as { node?: number; group?: string }) : {};
  const group = data.group !== undefined ? c.hierarchy?.get(data.group) : undefined;
  markPaths(cy, level, c, data.node !== undefined ? [data.node] : group && c.hierarchy ? c.hierarchy.members(group) : []);
}

/** The items made on one line of the editor. */
export function markLine(cy: Core, level: Level, c: LabelContext, sites: SourceSite[], file: string, line: number): void {
  const hit = new Set<number>();
  sites.forEach((site, k) => {
    if (k > 0 && site.file === file && line >= site.line && line <= site.endLine) hit.add(k);
  });
  const s = c.model.snapshot;
  const nodes: number[] = [];
  if (hit.size > 0) for (let i = 0; i < s.nodeCount; i++) if (hit.has(s.site[i])) nodes.push(i);
  mark(cy, "line-hit", elementsHolding(level, nodes));
}

/**
 * Labels with the grads (or values) known at this step, and the item being worked on. Only what
 * changed is touched (each change costs cytoscape a restyle), and other marks stay.
 */
export function markStep(cy: Core, level: Level, c: LabelContext, stepper: Stepper): void {
  const withOp = level.group !== undefined || c.model.snapshot.nodeCount > opNodeLimit;
  cy.batch(() => {
    cy.elements(".anim-active, .anim-edge").removeClass("anim-active anim-edge");
    for (const item of level.items) {
      if (item.kind !== "node") continue;
      const i = item.node;
      const node = cy.getElementById(`n${i}`);
      if (node.empty()) continue;
      const grad = stepper.grad(i);
      const known = stepper.known(i);
      const label = valueLines(c, i, withOp, grad, known).join("\n");
      if (node.data("label") !== label) node.data("label", label);
      const classes = `${valueClasses(c.model, i, grad)}${known ? "" : " anim-hidden"}`;
      const before = node.data("classes") as string | undefined;
      if (classes !== before) {
        if (before) node.removeClass(before);
        node.addClass(classes);
        node.data("classes", classes);
      }
    }
    const activeNode = stepper.activeNode;
    const active = stepper.last ? level.items[stepper.last.item] : activeNode !== undefined && level.rep[activeNode] >= 0 ? level.items[level.rep[activeNode]] : undefined;
    if (stepper.rawStep > 0 && active) {
      const element = cy.getElementById(itemElementId(active));
      element.addClass("anim-active");
      const op = active.kind === "node" ? cy.getElementById(`o${active.node}`) : cy.collection();
      (op.nonempty() ? op.connectedEdges() : element.incomers("edge")).addClass("anim-edge");
    }
  });
}
