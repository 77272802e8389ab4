/** The search box's entry points: runs a query, marks its matches, and moves between them. */
import { Finder } from "./finder";
import { setText } from "./dom";
import type { GraphView } from "./graphView";
import { markMatches } from "./marks";

type SearchTarget = Pick<GraphView, "shown" | "cy" | "stage" | "controls" | "report" | "saved" | "browser">;

export class SearchBox {
  private readonly finder = new Finder();

  constructor(private readonly view: SearchTarget) {}

  /** Marks the matches of `query`; `move` also reveals the first. Returns how many matched. */
  run(query: string, move = true): number {
    const { shown, cy, controls, stage, report } = this.view;
    const level = stage.level;
    if (!shown || !cy || !level || !controls) return 0;
    const mark = performance.now();
    const matches = this.finder.run(shown.model, shown.calls, query);
    markMatches(cy, level, matches);
    report.timings.search = performance.now() - mark;
    setText(controls.searchCount, this.finder.count(shown.strings));
    const first = this.finder.focused;
    if (move && first !== undefined) void this.view.browser.reveal(first);
    this.view.saved.soon();
    return matches.length;
  }

  /** Enter / Shift+Enter: the next or previous match. */
  next(back: boolean): void {
    const node = this.finder.move(back ? -1 : 1);
    const { shown, controls } = this.view;
    if (node === undefined || !shown || !controls) return;
    setText(controls.searchCount, this.finder.count(shown.strings));
    void this.view.browser.reveal(node);
  }
}
