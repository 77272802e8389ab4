/**
 * Parses TypeScript (and JavaScript) into an ESTree AST with acorn and its TypeScript plugin.
 * Used for instrumenting user code and for finding checkable functions without running anything.
 */
import { Parser, type Comment } from "acorn";
import { tsPlugin } from "@sveltejs/acorn-typescript";

/** An ESTree node as acorn gives it; the fields we read are checked where they are used. */
export interface AstNode {
  type: string;
  start: number;
  end: number;
  loc: { start: { line: number; column: number }; end: { line: number; column: number } };
  [key: string]: unknown;
}

export interface ParsedSource {
  program: AstNode;
  comments: Comment[];
}

// The plugin's declared type targets a different acorn type version; it extends the same Parser class.
const TypeScriptParser = Parser.extend(tsPlugin() as unknown as Parameters<typeof Parser.extend>[0]);

/** Throws acorn's SyntaxError (with `loc`) when the source does not parse. */
export function parseTypeScript(source: string): ParsedSource {
  const comments: Comment[] = [];
  const program = TypeScriptParser.parse(source, {
    sourceType: "module",
    ecmaVersion: "latest",
    locations: true,
    allowHashBang: true,
    allowReturnOutsideFunction: true,
    allowAwaitOutsideFunction: true,
    onComment: comments,
  }) as unknown as AstNode;
  return { program, comments };
}

export function isNode(x: unknown): x is AstNode {
  return typeof x === "object" && x !== null && typeof (x as { type?: unknown }).type === "string";
}

/** Keys that hold types, never runtime code. */
const TYPE_KEYS = new Set(["typeAnnotation", "returnType", "typeParameters", "typeArguments", "superTypeParameters", "implements", "loc"]);
/** TypeScript declarations with no runtime code worth instrumenting. */
const TYPE_ONLY = new Set(["TSInterfaceDeclaration", "TSTypeAliasDeclaration", "TSDeclareFunction", "TSModuleDeclaration", "TSEnumDeclaration", "TSImportEqualsDeclaration"]);

/** The child nodes of `node` that hold runtime code, in source order. */
export function runtimeChildren(node: AstNode): AstNode[] {
  const out: AstNode[] = [];
  for (const key of Object.keys(node)) {
    if (TYPE_KEYS.has(key)) continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item) && !TYPE_ONLY.has(item.type)) out.push(item);
    } else if (isNode(value) && !TYPE_ONLY.has(value.type) && !value.type.startsWith("TSType") && value.type !== "TSTypeAnnotation") {
      out.push(value);
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The name a type annotation node spells, for `Value`, `Value[]`, `Array<Value>`, `readonly Value[]`. */
export function valueParamKind(annotation: unknown): "scalar" | "array" | undefined {
  let t = isNode(annotation) && annotation.type === "TSTypeAnnotation" ? (annotation.typeAnnotation as AstNode) : undefined;
  if (!t) return undefined;
  if (t.type === "TSTypeOperator" && isNode(t.typeAnnotation)) t = t.typeAnnotation; // readonly Value[]
  const isValueRef = (n: unknown) =>
    isNode(n) && n.type === "TSTypeReference" && isNode(n.typeName) && n.typeName.type === "Identifier" && n.typeName.name === "Value";
  if (isValueRef(t)) return "scalar";
  if (t.type === "TSArrayType" && isValueRef(t.elementType)) return "array";
  if (t.type === "TSTypeReference" && isNode(t.typeName) && (t.typeName.name === "Array" || t.typeName.name === "ReadonlyArray")) {
    const args = (t.typeArguments ?? t.typeParameters) as { params?: unknown[] } | undefined;
    if (args?.params?.length === 1 && isValueRef(args.params[0])) return "array";
  }
  return undefined;
}
