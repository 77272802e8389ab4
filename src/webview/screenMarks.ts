/** The marks asked for on what is on screen: the paths from the selection to the output, and the editor's line. */
import type { GraphView } from "./graphView";
import { markLine, markSelectedPaths } from "./marks";

type MarkTarget = Pick<GraphView, "shown" | "cy" | "stage">;

export class ScreenMarks {
  constructor(private readonly view: MarkTarget) {}

  /** Highlights how the selected node (or group) reaches the output. */
  showPaths(): void {
    const { shown, cy, stage } = this.view;
    if (shown && cy && stage.level) markSelectedPaths(cy, stage.level, shown);
  }

  highlightLine(file: string, line: number): void {
    const { shown, cy, stage } = this.view;
    if (shown && cy && stage.level) markLine(cy, stage.level, shown, shown.result.sites, file, line);
  }
}
