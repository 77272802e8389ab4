/** The fenced Python code blocks of a Markdown document (the one fence reader: src/analysis/codeBlocks.ts). */
import { codeBlocksOf, type MarkdownCodeBlock } from "../../analysis/codeBlocks";

export { codeBlocksOf, type MarkdownCodeBlock };

const PYTHON_FENCES = new Set(["python", "py", "python3"]);

export function isPythonFence(language: string): boolean {
  return PYTHON_FENCES.has(language.toLowerCase());
}

export function isMarkdownFile(file: string): boolean {
  return /\.(md|markdown|mdx)$/i.test(file);
}

export function pythonBlocksOf(markdown: string): MarkdownCodeBlock[] {
  return codeBlocksOf(markdown).filter((b) => isPythonFence(b.language));
}
