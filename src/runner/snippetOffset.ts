/**
 * A snippet (a selection, a Markdown code block) runs as if it were a file of its own; this puts
 * a position in the snippet back at its place in the real file — the one formula for it.
 */

/**
 * `line` is 1-based and `column` 0-based, as parsers, esbuild and source maps give them; `offset`
 * is where the snippet's first character sits in the file (1-based). Only the snippet's first
 * line starts mid-line, so only positions on it shift sideways. Returns a 1-based line and column.
 */
export function placeInFile(offset: { line: number; column: number }, line: number, column: number): { line: number; column: number } {
  return { line: line + offset.line - 1, column: column + 1 + (line === 1 ? offset.column - 1 : 0) };
}
