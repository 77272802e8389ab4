/**
 * What can be learned from the source without running it: the checkable functions of a
 * `.grad.ts` file (for CodeLens positions) and the names a snippet declares.
 */
import type { Comment } from "acorn";
import { parseTypeScript, valueParamKind, isNode, type AstNode } from "./parse";
import type { SourceRange } from "../protocol/result";

// Finding Markdown code blocks needs no parser, so it lives apart, small enough for the extension bundle.
export { findCodeBlockAt } from "../analysis/codeBlocks";

export interface CheckableFunction {
  name: string;
  range: SourceRange;
  params: { name: string; kind: "scalar" | "array" }[];
  /** The point from a `@gradcheck` JSDoc tag, if the function has one. */
  point?: Record<string, number | number[]>;
}

/** A checkable function and whether it is hoisted (a function declaration, not a `const f = …`). */
export interface CheckableFunctionDetail extends CheckableFunction {
  hoisted: boolean;
}

/**
 * Every top-level function whose parameters are all typed `Value` or `Value[]` (at least one).
 * Returns [] for a file that does not parse: the run reports the syntax error.
 */
export function findCheckableFunctionsDetailed(source: string, file: string): CheckableFunctionDetail[] {
  let parsed;
  try {
    parsed = parseTypeScript(source);
  } catch {
    return [];
  }
  const found: CheckableFunctionDetail[] = [];
  for (const statement of parsed.program.body as AstNode[]) {
    const declaration = statement.type.startsWith("Export") && isNode(statement.declaration) ? statement.declaration : statement;
    const candidates: { name: string; fn: AstNode; hoisted: boolean }[] = [];
    if (declaration.type === "FunctionDeclaration" && isNode(declaration.id)) {
      candidates.push({ name: declaration.id.name as string, fn: declaration, hoisted: true });
    } else if (declaration.type === "VariableDeclaration") {
      for (const d of declaration.declarations as AstNode[]) {
        const init = d.init;
        if (isNode(d.id) && d.id.type === "Identifier" && isNode(init) && /^(ArrowFunctionExpression|FunctionExpression)$/.test(init.type)) {
          candidates.push({ name: d.id.name as string, fn: init, hoisted: false });
        }
      }
    }
    for (const { name, fn, hoisted } of candidates) {
      const params = checkableParams(fn.params as AstNode[]);
      if (!params) continue;
      const tag = gradcheckTag(source, parsed.comments, statement.start);
      const { start, end } = statement.loc;
      const range = { file, line: start.line, column: start.column + 1, endLine: end.line, endColumn: end.column + 1 };
      found.push({ name, range, params, ...(tag ? { point: tag } : {}), hoisted });
    }
  }
  return found;
}

export function findCheckableFunctions(source: string, file: string): CheckableFunction[] {
  return findCheckableFunctionsDetailed(source, file).map(({ hoisted: _hoisted, ...rest }) => rest);
}

function checkableParams(params: AstNode[]): CheckableFunction["params"] | undefined {
  if (params.length === 0) return undefined;
  const out: CheckableFunction["params"] = [];
  for (const p of params) {
    if (p.type !== "Identifier") return undefined; // defaults, rest and destructuring are not checkable
    const kind = valueParamKind(p.typeAnnotation);
    if (!kind) return undefined;
    out.push({ name: p.name as string, kind });
  }
  return out;
}

/** `/** @gradcheck x=2, w=[0.5, -1.2] *\/` right before the declaration → { x: 2, w: [0.5, -1.2] }. */
function gradcheckTag(source: string, comments: Comment[], declarationStart: number): Record<string, number | number[]> | undefined {
  const doc = comments.find((c) => c.type === "Block" && c.value.startsWith("*") && c.end <= declarationStart && source.slice(c.end, declarationStart).trim() === "");
  if (!doc) return undefined;
  return parseGradcheckTag(doc.value);
}

export function parseGradcheckTag(docText: string): Record<string, number | number[]> | undefined {
  const tag = /@gradcheck\b([^\n@]*)/.exec(docText);
  if (!tag) return undefined;
  const point: Record<string, number | number[]> = {};
  const assignment = /([A-Za-z_$][\w$]*)\s*=\s*(\[[^\]]*\]|[-+]?[\d.]+(?:e[-+]?\d+)?)/gi;
  for (const match of tag[1].matchAll(assignment)) {
    const [, name, text] = match;
    if (text.startsWith("[")) {
      const items = text.slice(1, -1).split(",").map((s) => s.trim()).filter((s) => s !== "");
      const numbers = items.map(Number);
      if (numbers.every(Number.isFinite)) point[name] = numbers;
    } else if (Number.isFinite(Number(text))) {
      point[name] = Number(text);
    }
  }
  return Object.keys(point).length > 0 ? point : undefined;
}

/** Names declared at the top level of a snippet (so they are not also passed in as helpers). */
export function topLevelNames(source: string): Set<string> {
  const names = new Set<string>();
  let program: AstNode;
  try {
    program = parseTypeScript(source).program;
  } catch {
    return names;
  }
  const addPattern = (p: unknown): void => {
    if (!isNode(p)) return;
    if (p.type === "Identifier") names.add(p.name as string);
    else if (p.type === "ObjectPattern") for (const prop of p.properties as AstNode[]) addPattern(prop.type === "RestElement" ? prop.argument : prop.value);
    else if (p.type === "ArrayPattern") for (const e of p.elements as unknown[]) addPattern(e);
    else if (p.type === "RestElement") addPattern(p.argument);
    else if (p.type === "AssignmentPattern") addPattern(p.left);
  };
  for (const statement of program.body as AstNode[]) {
    const s = statement.type.startsWith("Export") && isNode(statement.declaration) ? statement.declaration : statement;
    if (s.type === "VariableDeclaration") for (const d of s.declarations as AstNode[]) addPattern(d.id);
    else if ((s.type === "FunctionDeclaration" || s.type === "ClassDeclaration") && isNode(s.id)) addPattern(s.id);
    else if (s.type === "ImportDeclaration") for (const spec of s.specifiers as AstNode[]) addPattern(spec.local);
  }
  return names;
}
