/**
 * The fenced code blocks of a Markdown document, in one pass over its lines. The block list is the
 * one reading of a document's fences: `findCodeBlockAt` (the block under the cursor) looks it up.
 * Fences may be indented, as inside list items; a block's code keeps its lines as written (the
 * runner dedents it and maps columns back).
 */
export interface MarkdownCodeBlock {
  language: string;
  code: string;
  /** 1-based line of the block's first code line (the line after the opening fence). */
  startLine: number;
  /** 1-based line of the closing fence (the last line of the document when the fence is unclosed). */
  endLine: number;
}

const PYTHON_FENCES = new Set(["python", "py", "python3"]);

export function isPythonFence(language: string): boolean {
  return PYTHON_FENCES.has(language.toLowerCase());
}

export function isMarkdownFile(file: string): boolean {
  return /\.(md|markdown|mdx)$/i.test(file);
}

const OPENING_FENCE = /^[ \t]*(`{3,}|~{3,})\s*([^\s`]*)/;

/** Every fenced block, in document order. */
export function codeBlocksOf(markdown: string): MarkdownCodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: MarkdownCodeBlock[] = [];
  let open: { closing: RegExp; language: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (!open) {
      const start = OPENING_FENCE.exec(lines[i]);
      if (start) {
        const fence = start[1];
        open = { closing: new RegExp(`^[ \\t]*${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`), language: start[2].toLowerCase(), line: i + 1 };
      }
      continue;
    }
    if (open.closing.test(lines[i])) {
      blocks.push({ language: open.language, code: lines.slice(open.line, i).join("\n"), startLine: open.line + 1, endLine: i + 1 });
      open = undefined;
    }
  }
  // An unclosed fence runs to the end of the document.
  if (open) blocks.push({ language: open.language, code: lines.slice(open.line).join("\n"), startLine: open.line + 1, endLine: lines.length });
  return blocks;
}

export function pythonBlocksOf(markdown: string): MarkdownCodeBlock[] {
  return codeBlocksOf(markdown).filter((b) => isPythonFence(b.language));
}

/** The block whose fences or code contain the 1-based `line`. */
export function codeBlockAt(markdown: string, line: number): MarkdownCodeBlock | undefined {
  return codeBlocksOf(markdown).find((b) => line >= b.startLine - 1 && line <= b.endLine);
}
