/**
 * Which groups are open, outermost first (empty: the graph node by node): opening one, going up,
 * and the path down to a node. The controller draws the level this names.
 */
import type { Group, Hierarchy } from "./hierarchy";

export class Navigation {
  path: Group[] = [];

  constructor(private readonly hierarchy: Hierarchy | undefined) {}

  /** Starts at the top (or the saved path, as far as it still exists). */
  start(saved: string[] | undefined): void {
    this.path = this.hierarchy ? this.hierarchy.openPath(saved) : [];
  }

  get current(): Group | undefined {
    return this.path[this.path.length - 1];
  }

  get keys(): string[] {
    return this.path.map((g) => g.key);
  }

  /** Opens a group shown on the current level; false if there is none with that key. */
  open(key: string): boolean {
    const h = this.hierarchy;
    const open = this.current;
    const item = h && open ? h.contents(open).find((x) => x.kind === "group" && x.group.key === key) : undefined;
    if (!h || !item || item.kind !== "group") return false;
    this.path = h.descend([...this.path, item.group]);
    return true;
  }

  /** Goes up `levels`; returns the group that was left (to select it), undefined at the top. */
  up(levels = 1): Group | undefined {
    if (this.path.length <= 1) return undefined;
    const left = this.current;
    this.path = this.path.slice(0, Math.max(1, this.path.length - levels));
    // A group that opened by itself (the only one on its level) closes with its parent.
    const h = this.hierarchy;
    while (h && this.path.length > 1 && h.contents(this.path[this.path.length - 1]).length === 1) this.path.pop();
    return left;
  }

  /** Opens the groups down to node i; true if the path changed. */
  reach(node: number): boolean {
    if (!this.hierarchy) return false;
    const path = this.hierarchy.pathTo(node);
    if (path.map((g) => g.key).join("/") === this.keys.join("/")) return false;
    this.path = path;
    return true;
  }
}
