/**
 * Moving between levels of a grouped graph: opening a group, going up (toolbar, keys, breadcrumb),
 * and reaching a node by opening the groups down to it; each move redraws and is saved.
 */
import type { NodeSingular } from "cytoscape";
import { groupTitle } from "./captions";
import { renderBreadcrumb } from "./controls";
import type { GraphView } from "./graphView";

type BrowseTarget = Pick<GraphView, "nav" | "cy" | "canvas" | "stage" | "shown" | "controls" | "saved" | "render">;

export class LevelBrowser {
  constructor(private readonly view: BrowseTarget) {}

  async open(key: string): Promise<void> {
    if (!this.view.nav.open(key)) return;
    await this.view.render();
    this.view.saved.now();
  }

  /** Goes up `levels` and selects the group it left. */
  async up(levels = 1): Promise<void> {
    const left = this.view.nav.up(levels);
    if (!left) return;
    await this.view.render();
    this.view.cy?.getElementById(`g${left.key}`).select();
    this.view.saved.now();
  }

  /** Double click / Enter: a group opens, a value does nothing. */
  openElement(node: NodeSingular): Promise<void> {
    const key = node.data("group") as string | undefined;
    return key !== undefined ? this.open(key) : Promise.resolve();
  }

  renderBreadcrumb(): void {
    const { controls, shown, nav } = this.view;
    if (!controls || !shown) return;
    renderBreadcrumb(controls, nav.path, shown.result.roots[shown.rootIndex]?.name ?? "", (g) => groupTitle(shown.strings, g), (levels) => void this.up(levels));
  }

  /** Opens the groups down to node i and selects it there. */
  async reveal(i: number): Promise<void> {
    const { shown, nav, canvas, stage, saved } = this.view;
    if (!shown || i < 0 || i >= shown.model.snapshot.nodeCount) return;
    if (nav.reach(i)) await this.view.render();
    await canvas.ready;
    const id = stage.elementOf(i);
    const cy = this.view.cy;
    if (!id || !cy) return;
    cy.nodes(":selected").unselect();
    cy.getElementById(id).select();
    canvas.reveal(id);
    saved.soon();
  }
}
