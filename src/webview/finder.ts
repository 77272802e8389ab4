/** The search box's state: the matches of the last query and which one is focused. */
import type { GraphStrings } from "../protocol/messages";
import type { GraphModel } from "./graphModel";
import type { Hierarchy } from "./hierarchy";
import { findNodes } from "./search";

export class Finder {
  matches: number[] = [];
  private index = 0;
  private query = "";

  /** Runs a query over every node (open groups or not). */
  run(model: GraphModel, calls: Hierarchy, query: string): number[] {
    this.query = query;
    this.matches = findNodes(model, calls, query);
    this.index = 0;
    return this.matches;
  }

  /** The match to show, after moving `by` (Enter: +1, Shift+Enter: −1). */
  move(by: number): number | undefined {
    const n = this.matches.length;
    if (n === 0) return undefined;
    this.index = (((this.index + by) % n) + n) % n;
    return this.matches[this.index];
  }

  get focused(): number | undefined {
    return this.matches[this.index];
  }

  /** "3/17", "No match", or nothing for an empty query. */
  count(t: GraphStrings): string {
    if (!this.query.trim()) return "";
    return this.matches.length > 0 ? `${this.index + 1}/${this.matches.length}` : t.noMatch;
  }
}
