/**
 * Learners' own `Value` classes, found in the source by their shape: a class that stores `data`, `grad`
 * and its inputs (`children`, `_children`, `_prev` or `prev`). The instrumenter treats such a class's
 * methods as engine code — a value made inside `mul` is said to be made where the user called `x.mul(y)`,
 * and `const out = …` inside it neither labels values nor becomes a hover — and its constructor reports
 * each new value (`__gl_v(this)`), so every node gets its creation line (runtime side: userValues.ts).
 */
import { isNode, parseTypeScript, runtimeChildren, type AstNode } from "./parse";
import { CHILDREN_KEYS } from "./userValues";

/** A class's own declared member names: fields, constructor parameter properties and `this.x = …` targets. */
function memberNames(cls: AstNode): Set<string> {
  const names = new Set<string>();
  const body = isNode(cls.body) ? (cls.body.body as AstNode[]) : [];
  for (const member of body) {
    if ((member.type === "PropertyDefinition" || member.type === "ClassProperty") && isNode(member.key) && member.key.type === "Identifier") names.add(member.key.name as string);
    if (member.type === "MethodDefinition" && member.kind === "constructor" && isNode(member.value)) {
      for (const p of (member.value as AstNode).params as AstNode[]) {
        if (p.type === "TSParameterProperty" && isNode(p.parameter)) {
          const inner = p.parameter.type === "AssignmentPattern" ? (p.parameter.left as AstNode) : p.parameter;
          if (inner.type === "Identifier") names.add(inner.name as string);
        }
      }
    }
  }
  const stack: AstNode[] = [cls];
  while (stack.length > 0) {
    const node = stack.pop() as AstNode;
    if (node.type === "AssignmentExpression" && isNode(node.left) && node.left.type === "MemberExpression") {
      const target = node.left;
      if (isNode(target.object) && target.object.type === "ThisExpression" && isNode(target.property) && target.property.type === "Identifier") names.add(target.property.name as string);
    }
    stack.push(...runtimeChildren(node));
  }
  return names;
}

export function isValueClass(cls: AstNode): boolean {
  if (cls.type !== "ClassDeclaration" && cls.type !== "ClassExpression") return false;
  const names = memberNames(cls);
  return names.has("data") && names.has("grad") && CHILDREN_KEYS.some((k) => names.has(k));
}

/** The source spans [start, end) of the value classes in a program. */
export function valueClassSpans(program: AstNode): { start: number; end: number; node: AstNode }[] {
  const spans: { start: number; end: number; node: AstNode }[] = [];
  const stack: AstNode[] = [program];
  while (stack.length > 0) {
    const node = stack.pop() as AstNode;
    if (isValueClass(node)) {
      spans.push({ start: node.start, end: node.end, node });
      continue; // a class nested in a value class is engine code too
    }
    stack.push(...runtimeChildren(node));
  }
  return spans;
}

/** The constructor of a value class, if it writes one (where `__gl_v(this)` goes). */
export function constructorBody(cls: AstNode): AstNode | undefined {
  const body = isNode(cls.body) ? (cls.body.body as AstNode[]) : [];
  const ctor = body.find((m) => m.type === "MethodDefinition" && m.kind === "constructor");
  const fn = ctor && isNode(ctor.value) ? ctor.value : undefined;
  return fn && isNode(fn.body) ? fn.body : undefined;
}

/**
 * Whether a file's `Value` is its own (a class it declares, or one it imports from anywhere but
 * "gradlens"): then gradient checks build their inputs with that class.
 */
export function declaresOwnValue(program: AstNode): boolean {
  for (const statement of program.body as AstNode[]) {
    const s = statement.type.startsWith("Export") && isNode(statement.declaration) ? statement.declaration : statement;
    if (s.type === "ClassDeclaration" && isNode(s.id) && s.id.name === "Value") return true;
    if (s.type === "VariableDeclaration") {
      for (const d of s.declarations as AstNode[]) if (isNode(d.id) && d.id.type === "Identifier" && d.id.name === "Value") return true;
    }
    if (s.type === "ImportDeclaration" && s.importKind !== "type" && isNode(s.source) && s.source.value !== "gradlens") {
      for (const spec of s.specifiers as AstNode[]) {
        if (spec.importKind !== "type" && isNode(spec.local) && spec.local.name === "Value") return true;
      }
    }
  }
  return false;
}

/** `declaresOwnValue` of a source text; false when it does not parse (the run reports that). */
export function fileDeclaresOwnValue(source: string): boolean {
  try {
    return declaresOwnValue(parseTypeScript(source).program);
  } catch {
    return false;
  }
}
