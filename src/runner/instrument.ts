/**
 * Source tracking: rewrites user code so every value remembers the expression that made it.
 *
 * Each call and `new` gets a site id and sets `creationSite.site` right before it runs. Arguments
 * are evaluated before the call, and may contain calls of their own, so the site is set by wrapping
 * the LAST argument — `f(a, __gl_s(7, b))` — or, for a call with no arguments, its receiver —
 * `__gl_s(8, x).exp()`. Variable initialisers are wrapped as `__gl_b(k, expr)` to record bindings
 * (the variable name labels the value), loop bodies start with `__gl_l(n)` so a timeout knows which
 * loop it stopped in, and top-level expression statements are wrapped as `__gl_e(expr)` so the last
 * expression can be the graph's root. Edits never add a line, and magic-string keeps a source map.
 */
import MagicString from "magic-string";
import { parseTypeScript, runtimeChildren, isNode, type AstNode } from "./parse";
import { HELPERS } from "./helpers";
import { constructorBody, valueClassSpans } from "./userValueClasses";
import { instrumentFrames } from "./instrumentFrames";
import { placeInFile } from "./snippetOffset";
import type { SourceRange, SourceSite } from "../protocol/result";


/** A variable whose values are recorded for hovers. */
export interface BindingDeclaration {
  id: number;
  name: string;
  range: SourceRange;
}

/** Sites and bindings of every file of one run; ids are global to the run. */
export class SiteRegistry {
  readonly sites: SourceSite[] = [{ id: 0, file: "", line: 0, column: 0, endLine: 0, endColumn: 0, text: "(library code)" }];
  readonly bindings: BindingDeclaration[] = [];
  private functions = 0;

  /** A bundle-wide id for an instrumented function, so its call hook does no string work. */
  addFunction(): number {
    return this.functions++;
  }

  addSite(site: Omit<SourceSite, "id">): number {
    const id = this.sites.length;
    this.sites.push({ id, ...site });
    return id;
  }

  addBinding(name: string, range: SourceRange): number {
    const id = this.bindings.length;
    this.bindings.push({ id, name, range });
    return id;
  }
}

/** Where the instrumented text sits in the user's file (snippets start mid-file). */
export interface SourceOffset {
  file: string;
  /** 1-based line of the text's first line in the file. */
  line: number;
  /** 1-based column of the text's first character. */
  column: number;
}

export interface InstrumentOptions {
  offset: SourceOffset;
  /** Top-level functions to hand to the gradient checker (`__gl_fn(name, fn)`). */
  registerFunctions?: { name: string; hoisted: boolean }[];
  /**
   * The program's own file (not a module it imports): a top-level `await` there is run as Node runs
   * an ES module's, by running the body after the imports in an async function (CommonJS, which
   * the child runs, has no top-level await).
   */
  entry?: boolean;
}

export interface InstrumentedSource {
  code: string;
  /** A source map from `code` back to the text that was given, as JSON. */
  map: string;
}

const MAX_SITE_TEXT = 80;

/** Throws the parser's SyntaxError when the text does not parse; callers then run it as written. */
export function instrumentSource(source: string, registry: SiteRegistry, options: InstrumentOptions): InstrumentedSource {
  const { program } = parseTypeScript(source);
  const out = new MagicString(source);
  const { offset } = options;

  const rangeOf = (node: AstNode): SourceRange => {
    const start = placeInFile(offset, node.loc.start.line, node.loc.start.column);
    const end = placeInFile(offset, node.loc.end.line, node.loc.end.column);
    return { file: offset.file, line: start.line, column: start.column, endLine: end.line, endColumn: end.column };
  };
  const textOf = (node: AstNode): string => {
    const text = source.slice(node.start, node.end).replace(/\s+/g, " ");
    return text.length > MAX_SITE_TEXT ? `${text.slice(0, MAX_SITE_TEXT - 1)}…` : text;
  };
  /** Wraps `node` as `open node close`; called children-first, so outer wraps land outside inner ones. */
  const wrap = (node: AstNode, open: string, close = ")") => {
    out.prependRight(node.start, open);
    out.appendLeft(node.end, close);
  };

  // A learner's own Value class is engine code: its insides get no sites, bindings or write reports (userValueClasses.ts).
  const valueClasses = valueClassSpans(program);
  const inValueClass = (node: AstNode) => valueClasses.length > 0 && valueClasses.some((c) => node.start >= c.start && node.end <= c.end);

  // One binding per variable name per function (or top level), declared where it first appears.
  const bindingIds = new Map<string, number>();
  const bindingFor = (scope: AstNode | undefined, name: string, at: AstNode): number => {
    const key = `${scope?.start ?? -1}:${name}`;
    let id = bindingIds.get(key);
    if (id === undefined) {
      const range = rangeOf(at);
      id = registry.addBinding(name, { ...range, endLine: range.line, endColumn: range.column + name.length });
      bindingIds.set(key, id);
    }
    return id;
  };

  let topLevelAwait = false;
  const visit = (node: AstNode, parent: AstNode | undefined, functions: AstNode[], functionNames: (string | undefined)[]): void => {
    if (functions.length === 0 && (node.type === "AwaitExpression" || (node.type === "ForOfStatement" && node.await === true))) topLevelAwait = true;
    const isFunction = /Function/.test(node.type) && node.type !== "TSDeclareFunction";
    const innerFunctions = isFunction ? [...functions, node] : functions;
    const innerNames = isFunction ? [...functionNames, functionNameOf(node, parent)] : functionNames;
    for (const child of runtimeChildren(node)) visit(child, node, innerFunctions, innerNames);

    const scope = functions[functions.length - 1];
    const functionName = functionNames[functionNames.length - 1];
    if (inValueClass(node) && !/Loop|For|While|Throw/.test(node.type)) return;
    switch (node.type) {
      case "CallExpression":
      case "NewExpression": {
        const callee = node.callee as AstNode;
        const args = node.arguments as AstNode[];
        if (callee.type === "Super" || callee.type === "Import") break;
        // `require("x")` must stay a literal call for the bundler to see it.
        if (callee.type === "Identifier" && callee.name === "require") break;
        const id = registry.addSite({ ...rangeOf(node), text: textOf(node), binding: bindingNameOf(node, parent), functionName });
        const open = `${HELPERS.site}(${id},`;
        if (args.length > 0) {
          const last = args[args.length - 1];
          wrap(last.type === "SpreadElement" ? (last.argument as AstNode) : last, open);
        } else if (isSimpleReceiver(callee) && !continuesChain(node, parent)) {
          // `(__gl_s(8, 0), loss.backward())`: the user's own call expression stays whole, so an
          // optional chain still short-circuits and V8's error text quotes the user's expression.
          wrap(node, `(${open} 0), `);
        } else if (node.type === "NewExpression") {
          wrap(callee, `(${open}`, "))");
        } else if (callee.type === "MemberExpression" && continuesOptionalChain(callee.object as AstNode) && siteInPropertyKey(callee, open)) {
          // `a?.f().exp()`: done by siteInPropertyKey, inside the chain.
        } else if (callee.type === "MemberExpression" && (callee.object as AstNode).type !== "Super") {
          wrap(callee.object as AstNode, open);
        } else if (callee.type !== "MemberExpression") {
          wrap(callee, open);
        }
        break;
      }
      case "VariableDeclarator": {
        const id = node.id as AstNode;
        const init = node.init as AstNode | null;
        if (id.type === "Identifier" && init && mayHoldValue(init)) {
          wrap(init, `${HELPERS.bind}(${bindingFor(scope, id.name as string, id)},`);
        }
        break;
      }
      case "UpdateExpression":
      case "AssignmentExpression": {
        // `p.data -= …`, `p.grad = 0`: let the worker keep the numbers backward() left (backwardState.ts).
        const target = (node.type === "UpdateExpression" ? node.argument : node.left) as AstNode;
        if (target.type === "MemberExpression" && !target.computed && isNode(target.property) && /^(data|grad)$/.test(target.property.name as string) && (target.object as AstNode).type !== "Super") {
          wrap(target.object as AstNode, `${HELPERS.write}(`);
        }
        if (node.type === "UpdateExpression") break;
        const left = node.left as AstNode;
        const right = node.right as AstNode;
        if (node.operator === "=" && left.type === "Identifier" && mayHoldValue(right)) {
          wrap(right, `${HELPERS.bind}(${bindingFor(scope, left.name as string, left)},`);
        }
        break;
      }
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "WhileStatement":
      case "DoWhileStatement": {
        const body = node.body as AstNode;
        const head = source.slice(node.start, body.start).replace(/\s+/g, " ").trim();
        const id = registry.addSite({ ...rangeOf(node), text: head.length > MAX_SITE_TEXT ? `${head.slice(0, MAX_SITE_TEXT - 1)}…` : head, functionName });
        if (body.type === "BlockStatement") out.appendLeft(body.start + 1, `${HELPERS.loop}(${id});`);
        else wrap(body, `{${HELPERS.loop}(${id});`, "}");
        break;
      }
      case "ThrowStatement": {
        // Thrown non-Errors have no stack: the site gives them a line.
        const id = registry.addSite({ ...rangeOf(node), text: textOf(node), functionName });
        wrap(node.argument as AstNode, `${HELPERS.site}(${id},`);
        break;
      }
      case "ExpressionStatement": {
        if (parent?.type === "Program" && typeof node.directive !== "string") wrap(node.expression as AstNode, `${HELPERS.expression}(`);
        break;
      }
    }
  };
  /**
   * `a?.f().exp()` → `a?.f()[__gl_s(9, "exp")]()`: wrapping the receiver `a?.f()` would cut the
   * optional chain (when `a` is undefined the program gets `undefined`, the wrapped one a TypeError).
   * A property key is evaluated after the receiver and before the call, and only when the chain goes
   * on, so the site is set where it must be and the chain stays whole. False: left to the usual wrap.
   */
  const siteInPropertyKey = (member: AstNode, open: string): boolean => {
    const object = member.object as AstNode;
    const property = member.property as AstNode;
    if (member.computed === true) {
      wrap(property, open);
      return true;
    }
    const between = source.slice(object.end, property.start);
    if (property.type !== "Identifier" || !/^\s*(\?\.|\.)\s*$/.test(between)) return false; // `#private`, a comment
    out.overwrite(object.end, property.end, `${member.optional === true ? "?." : ""}[${open} ${JSON.stringify(property.name)})]`);
    return true;
  };

  visit(program, undefined, [], []);
  for (const c of valueClasses) {
    const body = constructorBody(c.node);
    if (body) out.appendLeft(body.end - 1, `;${HELPERS.made}(this);`);
  }
  instrumentFrames(program, source, out, { file: offset.file, lineOffset: offset.line, nextFunctionId: () => registry.addFunction() });

  const body = program.body as AstNode[];
  const wrapped = options.entry === true && topLevelAwait ? wrapTopLevelAwait(body, out) : undefined;
  for (const f of options.registerFunctions ?? []) {
    const call = `;${HELPERS.register}(${JSON.stringify(f.name)}, ${f.name});`;
    // Function declarations are hoisted: registering them first keeps them checkable even when later top-level code throws.
    if (f.hoisted) {
      if (wrapped) out.prependRight(wrapped.start, call);
      else out.prepend(call);
    } else if (wrapped) out.appendLeft(wrapped.end, `\n${call}`);
    else out.append(`\n${call}`);
  }
  const map = out.generateMap({ hires: true, source: offset.file, includeContent: false });
  return { code: out.toString(), map: map.toString() };
}

/**
 * `import …; BODY` → `import …; void (async () => {BODY\n})();` on the same lines. A rejection of
 * the function is an unhandled rejection, which the child reports at its line; the run ends when
 * the event loop drains, as before. `export` keywords go (nothing imports the program's own file).
 */
function wrapTopLevelAwait(body: AstNode[], out: MagicString): { start: number; end: number } | undefined {
  const statements = body.filter((s) => s.type !== "ImportDeclaration" && !(s.type === "TSImportEqualsDeclaration"));
  if (statements.length === 0) return undefined;
  for (const s of statements) {
    if (s.type === "ExportNamedDeclaration" && isNode(s.declaration)) out.remove(s.start, s.declaration.start);
    else if (s.type === "ExportNamedDeclaration" || s.type === "ExportAllDeclaration") out.remove(s.start, s.end);
    else if (s.type === "ExportDefaultDeclaration" && isNode(s.declaration)) out.overwrite(s.start, s.declaration.start, "void ");
  }
  const start = statements[0].start;
  const end = statements[statements.length - 1].end;
  out.prependLeft(start, "void (async () => {");
  out.append("\n})();");
  return { start, end };
}

/**
 * `x`, `this`, `model?.layer`, `params[i]`: a callee whose evaluation runs no user code (no calls
 * that would set a site of their own before this call runs).
 */
function isSimpleReceiver(callee: AstNode): boolean {
  let node = callee;
  while (node.type === "MemberExpression") {
    const property = node.property as AstNode;
    if (node.computed && property.type !== "Identifier" && property.type !== "Literal") return false;
    node = node.object as AstNode;
  }
  return node.type === "Identifier" || node.type === "ThisExpression";
}

/** `expr` is a link of an optional chain that goes on past it (`a?.f()` in `a?.f().g()`): a wrap of it would cut the chain. */
function continuesOptionalChain(expr: AstNode): boolean {
  let node: AstNode | undefined = expr;
  while (node) {
    if (node.optional === true) return true;
    if (node.type === "MemberExpression") node = node.object as AstNode;
    else if (node.type === "CallExpression") node = node.callee as AstNode;
    else if (node.type === "TSNonNullExpression") node = node.expression as AstNode;
    else return false;
  }
  return false;
}

/** The call is the object or callee of the expression around it (`a?.f().g`): a wrap would cut the chain. */
function continuesChain(call: AstNode, parent: AstNode | undefined): boolean {
  return (parent?.type === "MemberExpression" && parent.object === call) || (parent?.type === "CallExpression" && parent.callee === call);
}

/**
 * Literals, functions and classes never hold a Value: no need to record them. Object and array
 * literals can (`const model = { w: [...] }`): training runs start parameter paths at them.
 */
function mayHoldValue(expr: AstNode): boolean {
  // Operators (`a * b`, `-x`, `i++`, `a < b`) give numbers, strings or booleans, never an object: a
  // training loop's `const mHat = m[i] / (1 - beta1 ** t)` runs per parameter per step, without a hook.
  return !/^(Literal|TemplateLiteral|ArrowFunctionExpression|FunctionExpression|ClassExpression|BinaryExpression|UnaryExpression|UpdateExpression)$/.test(expr.type);
}

/** `const z = x.mul(y)` → "z": the variable the call's result goes to directly. */
function bindingNameOf(call: AstNode, parent: AstNode | undefined): string | undefined {
  if (!parent) return undefined;
  if (parent.type === "VariableDeclarator" && parent.init === call && isNode(parent.id) && parent.id.type === "Identifier") return parent.id.name as string;
  if (parent.type === "AssignmentExpression" && parent.right === call && isNode(parent.left) && parent.left.type === "Identifier") return parent.left.name as string;
  // `{ wte: matrix(…) }`: the key names what the call made (its values are grouped and found by it).
  if (parent.type === "Property" && parent.value === call && isNode(parent.key) && parent.key.type === "Identifier" && parent.computed !== true) return parent.key.name as string;
  return undefined;
}

function functionNameOf(fn: AstNode, parent: AstNode | undefined): string | undefined {
  if (isNode(fn.id) && fn.id.type === "Identifier") return fn.id.name as string;
  if (parent?.type === "VariableDeclarator" && isNode(parent.id) && parent.id.type === "Identifier") return parent.id.name as string;
  if ((parent?.type === "MethodDefinition" || parent?.type === "Property") && isNode(parent.key) && parent.key.type === "Identifier") return parent.key.name as string;
  return undefined;
}
