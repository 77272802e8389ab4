/**
 * Fenced code blocks in Markdown, found without a parser — small enough to live in the extension
 * bundle itself, so running the block under the cursor loads nothing extra.
 */

/** The fenced code block (``` or ~~~) containing the 1-based `line`, fences included. */
export function findCodeBlockAt(markdown: string, line: number): { language: string; code: string; startLine: number } | undefined {
  const lines = markdown.split(/\r?\n/);
  let open: { fence: string; language: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    if (!open) {
      const start = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
      if (start) open = { fence: start[1], language: start[2].toLowerCase(), line: n };
      continue;
    }
    const close = new RegExp(`^ {0,3}${open.fence[0] === "`" ? "`" : "~"}{${open.fence.length},}\\s*$`).test(lines[i]);
    if (close) {
      if (line >= open.line && line <= n) return { language: open.language, code: lines.slice(open.line, n - 1).join("\n"), startLine: open.line + 1 };
      open = undefined;
    }
  }
  // An unclosed fence runs to the end of the document.
  if (open && line >= open.line) return { language: open.language, code: lines.slice(open.line).join("\n"), startLine: open.line + 1 };
  return undefined;
}
