/** The fenced Python code blocks of a Markdown document, found with the runner's own fence reader. */
import { findCodeBlockAt } from "../staticAnalysis";

export interface MarkdownCodeBlock {
  language: string;
  code: string;
  /** 1-based line of the block's first code line (the line after the opening fence). */
  startLine: number;
}

const PYTHON_FENCES = new Set(["python", "py", "python3"]);

export function isPythonFence(language: string): boolean {
  return PYTHON_FENCES.has(language.toLowerCase());
}

export function isMarkdownFile(file: string): boolean {
  return /\.(md|markdown|mdx)$/i.test(file);
}

/** Every fenced block, in document order. */
export function codeBlocksOf(markdown: string): MarkdownCodeBlock[] {
  const lineCount = markdown.split(/\r?\n/).length;
  const blocks: MarkdownCodeBlock[] = [];
  let line = 1;
  while (line <= lineCount) {
    const block = findCodeBlockAt(markdown, line);
    if (!block || block.startLine <= (blocks[blocks.length - 1]?.startLine ?? 0)) {
      line++;
      continue;
    }
    blocks.push(block);
    const codeLines = block.code === "" ? 0 : block.code.split(/\r?\n/).length;
    // Continue after the closing fence.
    line = Math.max(line + 1, block.startLine + codeLines + 1);
  }
  return blocks;
}

export function pythonBlocksOf(markdown: string): MarkdownCodeBlock[] {
  return codeBlocksOf(markdown).filter((b) => isPythonFence(b.language));
}
