/**
 * What a run may print, kept within a budget: lines keep their structure, a line longer than the
 * longest kept is cut with a mark saying how much was cut, and once the budget is spent further
 * output is only counted. Never more than a line is held, so a flood costs no memory.
 */
import * as l10n from "@vscode/l10n";
import { LINE_OVERHEAD_CHARS } from "../../protocol/limits";

export class OutputBudget {
  private kept = 0;
  /** Characters (of lines after the budget was spent) counted and dropped. */
  droppedChars = 0;
  droppedLines = 0;

  constructor(
    private readonly budgetChars: number,
    private readonly maxLineChars: number,
  ) {}

  /**
   * The line as it is kept (cut when too long), or undefined when the budget is spent. `extra`:
   * characters of the line that were already left out (LineSplitter holds only the start of a line).
   */
  admit(text: string, extra = 0): string | undefined {
    if (this.kept >= this.budgetChars) {
      this.droppedChars += text.length + extra;
      this.droppedLines++;
      return undefined;
    }
    const total = text.length + extra;
    const kept = total <= this.maxLineChars ? text : `${text.slice(0, this.maxLineChars)} ${cutMark(total - this.maxLineChars)}`;
    this.kept += kept.length + LINE_OVERHEAD_CHARS;
    return kept;
  }

  /** Counts what was dropped elsewhere (the child's count, reported to the host). */
  addDropped(chars: number): void {
    if (chars > 0) {
      this.droppedChars += chars;
      this.droppedLines++;
    }
  }
}

function cutMark(chars: number): string {
  return l10n.t("[… {0} more characters]", chars.toLocaleString("en-US"));
}

/** A line as LineSplitter hands it over: its start, and how many characters of it were not held. */
export interface SplitLine {
  text: string;
  extra: number;
}

/**
 * Raw writes (process.stdout.write, a pipe) cut into lines. A line without its end yet is held only
 * up to `maxLineChars`; the rest of it is counted, so one endless line costs no memory either.
 */
export class LineSplitter {
  private pending = "";
  private pendingExtra = 0;

  constructor(private readonly maxLineChars: number) {}

  /** The complete lines in `chunk` (with what was held before); the last partial line is held. */
  push(chunk: string): SplitLine[] {
    const lines: SplitLine[] = [];
    let start = 0;
    for (let end = chunk.indexOf("\n", start); end !== -1; end = chunk.indexOf("\n", start)) {
      this.hold(chunk.slice(start, end));
      lines.push(this.take());
      start = end + 1;
    }
    this.hold(chunk.slice(start));
    return lines;
  }

  /** The held partial line, if any. */
  flush(): SplitLine[] {
    return this.pending === "" && this.pendingExtra === 0 ? [] : [this.take()];
  }

  private hold(text: string): void {
    const room = Math.max(0, this.maxLineChars + 1 - this.pending.length);
    if (room > 0) this.pending += text.slice(0, room);
    this.pendingExtra += Math.max(0, text.length - room);
  }

  private take(): SplitLine {
    const line = { text: this.pending.replace(/\r$/, ""), extra: this.pendingExtra };
    this.pending = "";
    this.pendingExtra = 0;
    return line;
  }
}
