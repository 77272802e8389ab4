/**
 * Fenced code blocks in Markdown, found without a parser, in one pass over the lines — small enough
 * to live in the extension bundle itself, so running the block under the cursor loads nothing extra.
 * The block list is the one reading of a document's fences (the Python runner's Markdown blocks are
 * these too). Fences may be indented, as inside list items; a block's code keeps its lines as
 * written (the runners dedent it and map columns back).
 */
export interface MarkdownCodeBlock {
  language: string;
  code: string;
  /** 1-based line of the block's first code line (the line after the opening fence). */
  startLine: number;
  /** 1-based line of the closing fence (the last line of the document when the fence is unclosed). */
  endLine: number;
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

/** The fenced code block (``` or ~~~) containing the 1-based `line`, fences included. */
export function findCodeBlockAt(markdown: string, line: number): { language: string; code: string; startLine: number } | undefined {
  const block = codeBlocksOf(markdown).find((b) => line >= b.startLine - 1 && line <= b.endLine);
  return block && { language: block.language, code: block.code, startLine: block.startLine };
}
