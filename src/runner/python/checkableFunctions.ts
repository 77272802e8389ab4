/**
 * The Python functions a gradient check can run, found in the source without running it (for CodeLens
 * positions and the tracer's check request): top-level `def`s whose parameters are all hinted `Value` or
 * a list of Values (`xs: list[Value]`, `List[Value]`, `Sequence[Value]`), or that carry a
 * `@gradcheck x=2, ys=[1, 2]` line in their docstring or in a comment right above them.
 */
import type { CheckableFunction } from "../staticAnalysis";
import { parseGradcheckTag } from "../staticAnalysis";

const DEF = /^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;
const LIST_OF_VALUE = /^(?:list|List|Sequence|typing\.List|typing\.Sequence|tuple|Tuple|Iterable)\[\s*["']?Value["']?\s*(?:,\s*\.\.\.\s*)?\]$/;

/**
 * `firstLine`: the 1-based line of `source`'s first line in `file` (a Markdown block starts mid-file).
 * Top-level means at the code's smallest indentation, so an indented block reads as it runs.
 */
export function findCheckablePythonFunctions(source: string, file: string, firstLine = 1): CheckableFunction[] {
  const lines = source.split(/\r\n|\r|\n/);
  const indentOf = (text: string) => text.length - text.trimStart().length;
  const codeLines = lines.filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  const top = codeLines.length > 0 ? Math.min(...codeLines.map(indentOf)) : 0;
  const found: CheckableFunction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const def = DEF.exec(lines[i]);
    if (!def || def[1].length !== top) continue;
    const header = headerText(lines, i, def[0].length);
    if (!header) continue;
    const params = splitParams(header.params);
    const end = endOfBlock(lines, header.lastLine, top);
    const tag = parseGradcheckTag(docstringOf(lines, header.lastLine + 1, end) + "\n" + commentsAbove(lines, i, top));
    const checkable = checkableParams(params, tag);
    if (!checkable) continue;
    const start = decoratorStart(lines, i, top);
    found.push({
      name: def[2],
      range: { file, line: firstLine + start, column: top + 1, endLine: firstLine + end, endColumn: lines[end].length + 1 },
      params: checkable,
      ...(tag ? { point: tag } : {}),
    });
  }
  return found;
}

/** The parameter list of a `def` that may span lines, and the line its header ends on. */
function headerText(lines: string[], defLine: number, open: number): { params: string; lastLine: number } | undefined {
  let depth = 1;
  let text = "";
  for (let i = defLine; i < lines.length && i < defLine + 50; i++) {
    const line = i === defLine ? lines[i].slice(open) : lines[i];
    for (let k = 0; k < line.length; k++) {
      const c = line[k];
      if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") depth--;
      if (depth === 0) return { params: text, lastLine: i };
      text += c;
    }
    text += " ";
  }
  return undefined;
}

/** Splits `a: Value, xs: list[Value] = None` at top-level commas. */
function splitParams(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of text) {
    if (c === "[" || c === "(" || c === "{") depth++;
    else if (c === "]" || c === ")" || c === "}") depth--;
    if (c === "," && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else current += c;
  }
  if (current.trim() !== "") parts.push(current.trim());
  return parts;
}

function checkableParams(params: string[], tag: Record<string, number | number[]> | undefined): CheckableFunction["params"] | undefined {
  if (params.length === 0) return undefined;
  const out: CheckableFunction["params"] = [];
  for (const p of params) {
    // `*args`, `**kw`, `/`, `*` and defaults are not checkable inputs.
    const match = /^([A-Za-z_]\w*)\s*(?::\s*(.+))?$/.exec(p);
    if (!match) return undefined;
    const [, name, hint] = match;
    const annotation = hint?.trim().replace(/^["'](.*)["']$/, "$1");
    if (annotation === "Value") out.push({ name, kind: "scalar" });
    else if (annotation !== undefined && LIST_OF_VALUE.test(annotation)) out.push({ name, kind: "array" });
    else if (tag?.[name] !== undefined) out.push({ name, kind: Array.isArray(tag[name]) ? "array" : "scalar" });
    else return undefined;
  }
  return out;
}

/** The last line (0-based) of the block that starts at `from`: before the next line at `top` indentation. */
function endOfBlock(lines: string[], from: number, top: number): number {
  let end = from;
  for (let i = from + 1; i < lines.length; i++) {
    const text = lines[i];
    if (text.trim() === "") continue;
    if (text.length - text.trimStart().length <= top && !text.trimStart().startsWith("#")) break;
    end = i;
  }
  return end;
}

/** The function's docstring, if its body starts with one. */
function docstringOf(lines: string[], from: number, end: number): string {
  const body = lines.slice(from, end + 1).join("\n").trimStart();
  const match = /^[rRuU]?("""|''')([\s\S]*?)\1/.exec(body) ?? /^[rRuU]?("|')(.*?)\1/.exec(body);
  return match ? match[2] : "";
}

/** The `#` comment lines right above a `def` (and its decorators). */
function commentsAbove(lines: string[], defLine: number, top: number): string {
  const comments: string[] = [];
  for (let i = decoratorStart(lines, defLine, top) - 1; i >= 0; i--) {
    const text = lines[i].trim();
    if (!text.startsWith("#")) break;
    comments.unshift(text.slice(1));
  }
  return comments.join("\n");
}

function decoratorStart(lines: string[], defLine: number, top: number): number {
  let start = defLine;
  while (start > 0 && lines[start - 1].trimStart().startsWith("@") && lines[start - 1].length - lines[start - 1].trimStart().length === top) start--;
  return start;
}
