/**
 * Call-stack recording: every function the user wrote reports entering and leaving, so each
 * value can be placed in the call that made it (`gpt` → `linear` → one row's dot product).
 *
 * A function body `{ … }` becomes `{const __gl_t=__gl_fe(7,"Neuron.call","file",12);try{ … }finally{__gl_fx(__gl_t)}}`
 * and an expression body `e` becomes `__gl_fx(__gl_fe(…), e)`, except in one-expression callbacks
 * (see isCallback). Generators and async functions (they suspend with their frame open) are left
 * alone, as are bodies that start with a directive. Edits never add a line, so the source map and
 * positions stay as they were.
 */
import type MagicString from "magic-string";
import { isNode, runtimeChildren, type AstNode } from "./parse";
import { HELPERS } from "./helpers";

const MAX_NAME = 48;
const FRAME_TOKEN = "__gl_t";

export interface FrameSourceInfo {
  file: string;
  /** 1-based line of the text's first line in the file. */
  lineOffset: number;
  /** A bundle-wide id per function (the recorder keys its function table by it). */
  nextFunctionId: () => number;
}

/** Adds the enter/leave hooks to every plain function of the program. */
export function instrumentFrames(program: AstNode, source: string, out: MagicString, info: FrameSourceInfo): void {
  const visit = (node: AstNode, parent: AstNode | undefined, className: string | undefined): void => {
    const isClass = node.type === "ClassDeclaration" || node.type === "ClassExpression";
    const innerClass = isClass ? (isNode(node.id) ? (node.id.name as string) : className) : className;
    for (const child of runtimeChildren(node)) visit(child, node, innerClass);
    if (!/^(FunctionDeclaration|FunctionExpression|ArrowFunctionExpression)$/.test(node.type)) return;
    if (node.generator === true || node.async === true) return;
    const body = node.body as AstNode;
    const name = JSON.stringify(frameName(node, parent, className, source));
    const enter = `${HELPERS.frameEnter}(${info.nextFunctionId()},${name},${JSON.stringify(info.file)},${node.loc.start.line + info.lineOffset - 1})`;
    if (body.type === "BlockStatement") {
      const first = (body.body as AstNode[])[0];
      if (first?.type === "ExpressionStatement" && typeof first.directive === "string") return;
      out.appendLeft(body.start + 1, `const ${FRAME_TOKEN}=${enter};try{`);
      out.prependRight(body.end - 1, `}finally{${HELPERS.frameExit}(${FRAME_TOKEN})}`);
    } else if (!isCallback(node, parent)) {
      out.prependRight(body.start, `${HELPERS.frameExit}(${enter},`);
      out.appendLeft(body.end, ")");
    }
  };
  visit(program, undefined, undefined);
}

/**
 * A one-expression arrow passed to a call (`(i) => row[i].mul(x[i])`, run once per element): hooking
 * it would cost more than the op it wraps, so its values belong to the call that runs it.
 */
function isCallback(fn: AstNode, parent: AstNode | undefined): boolean {
  return (parent?.type === "CallExpression" || parent?.type === "NewExpression") && (parent.arguments as AstNode[]).includes(fn);
}

/** `linear`, `Neuron.call`, `new Neuron`, or for a callback its own source text, shortened. */
function frameName(fn: AstNode, parent: AstNode | undefined, className: string | undefined, source: string): string {
  if (isNode(fn.id) && fn.id.type === "Identifier") return fn.id.name as string;
  if (parent?.type === "VariableDeclarator" && isNode(parent.id) && parent.id.type === "Identifier") return parent.id.name as string;
  if ((parent?.type === "MethodDefinition" || parent?.type === "Property" || parent?.type === "PropertyDefinition") && isNode(parent.key)) {
    const key = parent.key.type === "Identifier" ? (parent.key.name as string) : source.slice(parent.key.start, parent.key.end);
    if (parent.type === "MethodDefinition" && parent.kind === "constructor") return `new ${className ?? "?"}`;
    return className && parent.type !== "Property" ? `${className}.${key}` : key;
  }
  const text = source.slice(fn.start, fn.end).replace(/\s+/g, " ");
  return text.length > MAX_NAME ? `${text.slice(0, MAX_NAME - 1)}…` : text;
}
