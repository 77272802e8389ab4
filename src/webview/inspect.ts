/**
 * What an element on the canvas stands for: a value (its own node or its op node) or a group —
 * the hover card's rows for it, and the source position a click reveals.
 */
import type { NodeSingular } from "cytoscape";
import type { SourceSite } from "../protocol/result";
import type { GraphModel } from "./graphModel";
import type { GraphView } from "./graphView";
import type { Hierarchy } from "./hierarchy";
import type { Stepper } from "./stepper";
import type { Tooltip } from "./tooltip";

export interface Inspected {
  model: GraphModel;
  sites: SourceSite[];
  /** Set when the level is grouped. */
  hierarchy: Hierarchy | undefined;
  /** The call stacks (tooltips name them at any size). */
  calls: Hierarchy;
}

function valueOf(element: NodeSingular): number | undefined {
  const data = element.data() as { node?: number; op?: number };
  return data.node ?? data.op;
}

function groupOf(c: Inspected, element: NodeSingular): ReturnType<Hierarchy["get"]> {
  const key = element.data("group") as string | undefined;
  return key !== undefined ? c.hierarchy?.get(key) : undefined;
}

/** The hover card's rows (the running grad while stepping backward), or undefined. */
export function hoverRows(c: Inspected, tooltip: Tooltip, element: NodeSingular, stepper: Stepper | undefined): HTMLElement[] | undefined {
  const i = valueOf(element);
  if (i !== undefined) {
    const running = stepper && stepper.mode === "backward" && stepper.rawStep > 0 ? stepper.grad(i) : undefined;
    return tooltip.nodeRows(c.model, i, running, c.calls);
  }
  const group = groupOf(c, element);
  return group && c.hierarchy ? tooltip.groupRows(c.model, group, c.hierarchy.members(group)) : undefined;
}

/** The line that made the value (or the group's call), if it is in the user's code. */
export function sourceOf(c: Inspected, element: NodeSingular): SourceSite | undefined {
  const i = valueOf(element);
  return siteAt(c, i !== undefined ? c.model.snapshot.site[i] : (groupOf(c, element)?.site ?? 0));
}

/** The line that made value i, if it is in the user's code. */
export function sourceOfNode(c: Inspected, i: number): SourceSite | undefined {
  return siteAt(c, c.model.snapshot.site[i]);
}

function siteAt(c: Inspected, site: number): SourceSite | undefined {
  return site > 0 ? c.sites[site] : undefined;
}

type InspectTarget = Pick<GraphView, "shown" | "playback" | "host">;

/** The canvas's hover and click, and the side panel's pick: the hover card, and the editor at the source line. */
export class Inspector {
  constructor(
    private readonly view: InspectTarget,
    private readonly tooltip: Tooltip,
  ) {}

  hover(element: NodeSingular, at: { x: number; y: number }): void {
    const rows = this.inspected && hoverRows(this.inspected, this.tooltip, element, this.view.playback.stepper);
    if (rows) this.tooltip.showAt(at.x, at.y, rows);
  }

  /** Click: the editor shows the line that made the node (or the group's call). */
  revealSourceOf(element: NodeSingular): void {
    this.revealSource(this.inspected && sourceOf(this.inspected, element));
  }

  revealSourceOfNode(i: number): void {
    this.revealSource(this.inspected && sourceOfNode(this.inspected, i));
  }

  private revealSource(site: SourceSite | undefined): void {
    if (site) this.view.host.postMessage({ type: "revealSource", file: site.file, line: site.line, column: site.column });
  }

  private get inspected(): Inspected | undefined {
    const shown = this.view.shown;
    return shown && { ...shown, sites: shown.result.sites };
  }
}
