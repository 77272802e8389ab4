/**
 * The child's side of the output budget: what the user's code prints (console calls, with the call
 * site that printed, and raw process.stdout/stderr writes) is cut to the budget here, before it
 * costs a pipe or a message, and goes to the host in small batches so a run stopped later still
 * shows what it printed. Printing never stops a run; past the budget it is only counted.
 */
import { format } from "node:util";
import { StringDecoder } from "node:string_decoder";
import { LineSplitter, OutputBudget } from "./outputBudget";
import type { ChildChannel } from "./childChannel";
import type { WorkerConsoleLine } from "../protocol";

/** A batch goes out when it holds this much, or this long after its first line. */
const BATCH_CHARS = 64 * 1024;
const BATCH_MS = 20;

type Stream = "stdout" | "stderr";

export class ConsoleCapture {
  /** performance.now() of the last write (a stop says "an endless loop?" only after a quiet while). */
  lastWriteAt = 0;
  private readonly budget: OutputBudget;
  private readonly splitters: Record<Stream, LineSplitter>;
  private batch: WorkerConsoleLine[] = [];
  private batchChars = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  private batchStarted = 0;
  private droppedSent = 0;

  constructor(
    limits: { outputBudgetChars: number; maxLineChars: number },
    private readonly channel: ChildChannel,
    private readonly siteOf: () => number,
  ) {
    this.budget = new OutputBudget(limits.outputBudgetChars, limits.maxLineChars);
    this.splitters = { stdout: new LineSplitter(limits.maxLineChars), stderr: new LineSplitter(limits.maxLineChars) };
  }

  /** A console method writing to `stream`. */
  console(stream: Stream): (...args: unknown[]) => void {
    return (...args: unknown[]) => {
      let text: string;
      try {
        text = format(...args);
      } catch {
        text = "(output that could not be printed)";
      }
      this.add(stream, text, this.siteOf());
    };
  }

  /** process.stdout.write and process.stderr.write go through the budget too (cut into lines). */
  captureStreams(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const decoder = new StringDecoder("utf8");
      const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
        const done = typeof encoding === "function" ? encoding : callback;
        try {
          const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)) : String(chunk);
          const site = this.siteOf();
          for (const line of this.splitters[stream].push(text)) this.add(stream, line.text, site, true, line.extra);
          this.lastWriteAt = performance.now();
        } catch {
          // Printing must never break the user's code.
        }
        if (typeof done === "function") process.nextTick(done as () => void);
        return true;
      };
      (process[stream] as unknown as { write: typeof write }).write = write;
    }
  }

  /** Sends what is held (and at the end, the rest of an unfinished raw line). */
  flush(final = false): void {
    if (final) for (const stream of ["stdout", "stderr"] as const) for (const line of this.splitters[stream].flush()) this.add(stream, line.text, 0, false, line.extra);
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const dropped = this.budget.droppedChars - this.droppedSent;
    if (this.batch.length === 0 && dropped === 0) return;
    this.channel.send({ type: "console", lines: this.batch, droppedChars: dropped });
    this.droppedSent += dropped;
    this.batch = [];
    this.batchChars = 0;
  }

  private add(stream: Stream, text: string, siteId: number, mayFlush = true, extra = 0): void {
    this.lastWriteAt = performance.now();
    const kept = this.budget.admit(text, extra);
    if (kept === undefined) return;
    if (this.batch.length === 0) this.batchStarted = this.lastWriteAt;
    this.batch.push({ stream, text: kept, siteId });
    this.batchChars += kept.length;
    if (!mayFlush) return;
    // A busy loop never lets the timer below fire: it flushes as it prints.
    if (this.batchChars >= BATCH_CHARS || this.lastWriteAt - this.batchStarted >= BATCH_MS) this.flush();
    // A program that prints and then waits still shows its output soon.
    else this.batchTimer ??= setTimeout(() => this.flush(), BATCH_MS).unref();
  }
}
