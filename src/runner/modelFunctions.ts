/**
 * Top-level functions that return a `Value` but take other parameters (`loss(tokens: number[]): Value`,
 * a model's forward over a global state dict): not checkable at a point of their own, but checkable with
 * respect to all the leaves of the graph they build when the program calls them (opCheckModel.ts).
 */
import { parseTypeScript, isNode, type AstNode } from "./parse";
import type { SourceRange } from "../protocol/result";
import { findCheckableFunctions } from "./staticAnalysis";

export interface ModelFunction {
  name: string;
  range: SourceRange;
}

export function findModelFunctions(source: string, file: string): ModelFunction[] {
  let program: AstNode;
  try {
    program = parseTypeScript(source).program;
  } catch {
    return [];
  }
  const checkable = new Set(findCheckableFunctions(source, file).map((f) => f.name));
  const found: ModelFunction[] = [];
  for (const statement of program.body as AstNode[]) {
    const declaration = statement.type.startsWith("Export") && isNode(statement.declaration) ? statement.declaration : statement;
    const candidates: { name: string; fn: AstNode }[] = [];
    if (declaration.type === "FunctionDeclaration" && isNode(declaration.id)) candidates.push({ name: declaration.id.name as string, fn: declaration });
    else if (declaration.type === "VariableDeclaration") {
      for (const d of declaration.declarations as AstNode[]) {
        if (isNode(d.id) && d.id.type === "Identifier" && isNode(d.init) && /^(ArrowFunctionExpression|FunctionExpression)$/.test(d.init.type)) candidates.push({ name: d.id.name as string, fn: d.init });
      }
    }
    for (const { name, fn } of candidates) {
      if (checkable.has(name) || !returnsValue(fn)) continue;
      const { start, end } = statement.loc;
      found.push({ name, range: { file, line: start.line, column: start.column + 1, endLine: end.line, endColumn: end.column + 1 } });
    }
  }
  return found;
}

/** `): Value` as the declared return type. */
function returnsValue(fn: AstNode): boolean {
  const annotation = fn.returnType;
  if (!isNode(annotation)) return false;
  const type = annotation.typeAnnotation;
  return isNode(type) && type.type === "TSTypeReference" && isNode(type.typeName) && type.typeName.name === "Value";
}
