/**
 * The request the Python tracer reads: which code to run (a whole file, a selection, or a Markdown
 * code block with the earlier blocks it may build on), where it sits in the user's file, and the limits.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { isMarkdownFile, pythonBlocksOf } from "./markdownBlocks";
import { CHECKPOINT_INTERVAL_MS, CHECKPOINT_SHARE } from "../../protocol/limits";

export interface PythonRunInput {
  /** The file the code comes from: a `.py` file, or the Markdown file of a code block. */
  file: string;
  /** The code to run; omitted: the file as saved. With `origin`: a selection or code block. */
  code?: string;
  /** Where `code` starts in `file` (1-based line and column). */
  origin?: { file: string; line: number; column: number };
  /**
   * The whole text of `file` as the editor has it (possibly unsaved). For a Markdown code block,
   * earlier ```python blocks that define names the block uses run first, as in a notebook.
   * Omitted: the file is read from disk.
   */
  document?: string;
}

/** One piece of code the tracer compiles, and how its lines and columns map back to `file`. */
export interface TracerChunk {
  code: string;
  file: string;
  line: number;
  /** Columns to add on the chunk's first line (it may start mid-line, and was dedented). */
  firstLineShift: number;
  /** Columns to add on every other line (removed indentation). */
  shift: number;
  /** The file name Python compiles it under (the real path for a whole file). */
  compileName: string;
}

export interface TracerRequest {
  file: string;
  markdown: boolean;
  main: TracerChunk;
  /** Earlier code blocks of a Markdown file; the tracer runs only those the main chunk needs. */
  context: TracerChunk[];
  timeLimitMs: number;
  heapLimitMb: number;
  nodeLimit?: number;
  /** Also check the local gradients of the ops in the run's graphs (python/gradlens_opcheck.py). */
  opChecks?: boolean;
  resultPath: string;
  dumpPath: string;
  /**
   * Where the tracer writes a checkpoint now and then (python/gradlens_checkpoint.py): the result as it
   * would be at that backward(), read when the run is stopped before it writes `resultPath`.
   */
  checkpointPath: string;
  /** The first checkpoint once the run has gone on this long; then each waits `checkpointShare` × the last one's cost. */
  checkpointIntervalMs: number;
  checkpointShare: number;
  /**
   * When the host's time limit fires (epoch ms, set as the process starts): the tracer stops itself then,
   * not `timeLimitMs` after its own start-up, so it has the whole grace to write what it recorded.
   */
  deadlineMs?: number;
}

export interface RequestLimits {
  timeLimitMs: number;
  heapLimitMb: number;
  nodeLimit?: number;
  opChecks?: boolean;
  /** Default CHECKPOINT_INTERVAL_MS; a training run's waits as long as its first live graph (firstCheckpointGapMs). */
  checkpointIntervalMs?: number;
}

export async function buildRequest(input: PythonRunInput, limits: RequestLimits, paths: { resultPath: string; dumpPath: string; checkpointPath: string }): Promise<TracerRequest> {
  const file = path.resolve(input.file);
  const markdown = isMarkdownFile(file);
  const common = { file, markdown, ...limits, ...paths, checkpointIntervalMs: limits.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS, checkpointShare: CHECKPOINT_SHARE };
  if (input.code === undefined || !input.origin) {
    // Python reads a UTF-8 byte order mark as "utf-8-sig"; compiling a string, it must go.
    const code = (input.code ?? decodePythonSource(await readFile(file))).replace(/^\uFEFF/, "");
    return { ...common, main: { code, file, line: 1, firstLineShift: 0, shift: 0, compileName: file }, context: [] };
  }
  const origin = input.origin;
  const main = snippetChunk(input.code, file, origin.line, origin.column);
  let context: TracerChunk[] = [];
  if (markdown) {
    const text = input.document ?? (await readFile(file, "utf8").catch(() => ""));
    context = pythonBlocksOf(text)
      .filter((block) => block.startLine < origin.line)
      .map((block) => snippetChunk(block.code, file, block.startLine, 1));
  }
  return { ...common, main, context };
}

/**
 * A Python file's text in the encoding its first two lines declare (PEP 263: `# -*- coding: latin-1 -*-`),
 * else UTF-8, as Python itself reads it.
 */
export function decodePythonSource(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 400)).toString("latin1").split(/\r\n|\r|\n/).slice(0, 2);
  for (const line of head) {
    const declared = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/.exec(line)?.[1];
    if (declared) {
      try {
        return new TextDecoder(PYTHON_CODEC_LABELS[declared.toLowerCase().replace(/_/g, "-")] ?? declared).decode(bytes);
      } catch {
        break; // a codec JavaScript does not know: read it as UTF-8, as before
      }
    }
    if (!/^[ \t\f]*(#.*)?$/.test(line)) break; // the declaration must come before any code
  }
  return new TextDecoder("utf-8").decode(bytes);
}

/** Python codec names whose WHATWG label differs. */
const PYTHON_CODEC_LABELS: Record<string, string> = {
  "latin-1": "latin1",
  "iso-8859-1": "latin1",
  l1: "latin1",
  cp1252: "windows-1252",
  cp949: "euc-kr",
  "utf-8-sig": "utf-8",
  utf8: "utf-8",
};

/** A selection or code block, dedented so Python accepts it, with the shifts that undo that. */
export function snippetChunk(code: string, file: string, line: number, column: number): TracerChunk {
  const lines = code.split(/\r\n|\r|\n/);
  const leading = (text: string) => text.length - text.replace(/^[ \t]+/, "").length;
  const before = column - 1;
  // The first line may begin mid-line: count what precedes it as indentation. Blank lines and
  // comment lines do not count (Python ignores their indentation: `# microgpt.py:135` at column 0
  // above indented code is still indented code).
  const ignored = (text: string) => text.trim() === "" || text.trim().startsWith("#");
  const indents = lines.map((text, i) => (ignored(text) && !(i === 0 && before > 0) ? Infinity : (i === 0 ? before : 0) + leading(text)));
  const common = Math.min(...indents);
  const removed = Number.isFinite(common) ? common : 0;
  const firstRemoved = Math.max(0, removed - before);
  const dedented = lines.map((text, i) => text.slice(Math.min(i === 0 ? firstRemoved : removed, leading(text))));
  return {
    code: dedented.join("\n"),
    file,
    line,
    firstLineShift: before + firstRemoved,
    shift: removed,
    compileName: `<${path.basename(file)}, line ${line}>`,
  };
}
