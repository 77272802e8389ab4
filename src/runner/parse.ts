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

/**
 * A scope's declared names (acorn's `scope.var`, `.lexical`, `.functions`), whose "is this name
 * declared here?" — acorn's `indexOf(name)`, asked at every declaration — is a Set lookup. A plain
 * array made that a linear search, so a script of thousands of top-level `const`s parsed in
 * quadratic time (6,000 lines: 1.4 s of the extension host's CodeLens analysis, 2 s of bundling).
 * Acorn and the TypeScript plugin only push names and truncate the lists, so every name in a list
 * is in its Set: a miss is a sure "not here", and a hit is confirmed by the array's own search.
 */
class NameList extends Array<string> {
  private readonly names = new Set<string>();

  override push(...items: string[]): number {
    for (const item of items) this.names.add(item);
    return super.push(...items);
  }

  override indexOf(name: string, fromIndex?: number): number {
    return this.names.has(name) ? super.indexOf(name, fromIndex) : -1;
  }

  override includes(name: string, fromIndex?: number): boolean {
    return this.names.has(name) && super.includes(name, fromIndex);
  }
}

/** The parts of acorn's parser (not in its types) that the scope lists are swapped in by. */
interface ScopedParser {
  enterScope(flags: number): void;
  currentScope(): Record<"var" | "lexical" | "functions", string[]>;
}

type ParserClass = typeof Parser;

/** An acorn plugin: each scope it enters keeps its names in NameLists. */
function fastScopes(Base: ParserClass): ParserClass {
  return class extends (Base as unknown as new (...args: unknown[]) => ScopedParser) {
    override enterScope(flags: number): void {
      super.enterScope(flags);
      const scope = this.currentScope();
      for (const key of ["var", "lexical", "functions"] as const) {
        const list = new NameList();
        list.push(...scope[key]);
        scope[key] = list;
      }
    }
  } as unknown as ParserClass;
}

// The plugin's declared type targets a different acorn type version; it extends the same Parser class.
const TypeScriptParser = Parser.extend(tsPlugin() as unknown as Parameters<typeof Parser.extend>[0], fastScopes);

/**
 * The last text parsed and its tree (or its error), until the current task ends: the callers that
 * read one document in one go (its CodeLenses ask for checkable functions, then model functions,
 * which ask for the checkable ones again) parse it once, and no tree outlives the task.
 */
let recent: { source: string; parsed: ParsedSource } | { source: string; error: unknown } | undefined;

/** Throws acorn's SyntaxError (with `loc`) when the source does not parse. The tree is only read, never changed, by its users. */
export function parseTypeScript(source: string): ParsedSource {
  if (recent?.source === source) {
    if ("error" in recent) throw recent.error;
    return recent.parsed;
  }
  if (recent === undefined) setTimeout(() => (recent = undefined), 0);
  try {
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
    recent = { source, parsed: { program, comments } };
    return recent.parsed;
  } catch (error) {
    recent = { source, error };
    throw error;
  }
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
