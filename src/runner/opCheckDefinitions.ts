/**
 * Where the method of a learner's own TypeScript `Value` class is written, for a failing op (the fix
 * goes there, not at the line that called it). The child reports the method's name only (it runs the
 * bundle); the host reads the user's source files of the bundle and finds the method in a value class.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { isNode, parseTypeScript, type AstNode } from "./parse";
import { valueClassSpans } from "./userValueClasses";
import { placeInFile } from "./snippetOffset";
import type { SourceOffset } from "./instrument";
import type { OpCheckResult, SourcePosition } from "../protocol/result";

/** The bundle's user files (its source map's sources), the snippet's own text in place of its file. */
export function placeMethods(
  ops: readonly OpCheckResult[],
  bundle: { map: string; sourceRoot: string },
  snippet?: { offset: SourceOffset; code: string },
): OpCheckResult[] {
  if (!ops.some((op) => op.method !== undefined && op.definition === undefined)) return [...ops];
  const definitions = methodDefinitions(bundle, snippet);
  return ops.map((op) => {
    const at = op.method !== undefined && op.definition === undefined ? definitions.get(op.method) : undefined;
    return at ? { ...op, definition: at } : op;
  });
}

function methodDefinitions(bundle: { map: string; sourceRoot: string }, snippet?: { offset: SourceOffset; code: string }): Map<string, SourcePosition> {
  const found = new Map<string, SourcePosition>();
  let sources: string[] = [];
  try {
    sources = ((JSON.parse(bundle.map) as { sources?: unknown }).sources as string[] | undefined) ?? [];
  } catch {
    return found;
  }
  for (const source of sources) {
    const file = path.resolve(bundle.sourceRoot, source);
    if (file.includes(`${path.sep}node_modules${path.sep}`)) continue;
    const inSnippet = snippet && file === path.resolve(snippet.offset.file);
    let text: string;
    try {
      text = inSnippet ? snippet.code : readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const [name, at] of classMethods(text)) {
      if (found.has(name)) continue;
      found.set(name, { file, ...(inSnippet ? placeInFile(snippet.offset, at.line, at.column) : { line: at.line, column: at.column + 1 }) });
    }
  }
  return found;
}

/** Methods (and function-valued fields) of the value classes of a source: name → 1-based line, 0-based column. */
function classMethods(text: string): Map<string, { line: number; column: number }> {
  const methods = new Map<string, { line: number; column: number }>();
  let program: AstNode;
  try {
    program = parseTypeScript(text).program;
  } catch {
    return methods;
  }
  for (const { node } of valueClassSpans(program)) {
    const body = isNode(node.body) ? (node.body.body as AstNode[]) : [];
    for (const member of body) {
      const isMethod = member.type === "MethodDefinition" && member.kind === "method";
      const isArrowField = (member.type === "PropertyDefinition" || member.type === "ClassProperty") && isNode(member.value) && /Function/.test(member.value.type);
      if ((!isMethod && !isArrowField) || !isNode(member.key) || member.key.type !== "Identifier") continue;
      const name = member.key.name as string;
      if (!methods.has(name)) methods.set(name, { line: member.loc.start.line, column: member.loc.start.column });
    }
  }
  return methods;
}
