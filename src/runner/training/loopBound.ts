/**
 * The training loop's bound, read from the source without running it (for the progress's ETA):
 * a counted loop at the top of the program (or of its `main`) — `for (let step = 0; step < numSteps;
 * step++)` with a number or a top-level `const numSteps = 1000` — that calls backward() itself, or
 * else the last such loop that calls a function of the program (`trainStep(model, …)`).
 * The Python twin is `loop_bound` in python/gradlens_training.py. Undefined when no loop qualifies.
 */
import { parseTypeScript, isNode, type AstNode } from "../parse";

interface CountedLoop {
  count: number;
  callsBackward: boolean;
  callsFunction: boolean;
}

export function loopBoundOfTypeScript(source: string): number | undefined {
  let program: AstNode;
  try {
    program = parseTypeScript(source).program;
  } catch {
    return undefined;
  }
  const top = program.body as AstNode[];
  const constants = new Map<string, number>();
  const loops: CountedLoop[] = [];
  const visit = (statements: readonly AstNode[]): void => {
    for (const statement of statements) {
      const s = statement.type.startsWith("Export") && isNode(statement.declaration) ? statement.declaration : statement;
      if (s.type === "VariableDeclaration") {
        for (const d of s.declarations as AstNode[]) {
          const value = isNode(d.init) ? numberOf(d.init, constants) : undefined;
          if (isNode(d.id) && d.id.type === "Identifier" && value !== undefined) constants.set(String(d.id.name), value);
        }
      } else if (s.type === "ForStatement") {
        const loop = countedLoop(s, constants, source);
        if (loop) loops.push(loop);
      } else if (s.type === "FunctionDeclaration" && isNode(s.id) && s.id.name === "main" && isNode(s.body)) {
        visit(s.body.body as AstNode[]);
      } else if (s.type === "BlockStatement") {
        visit(s.body as AstNode[]);
      }
    }
  };
  visit(top);
  const direct = loops.find((l) => l.callsBackward);
  if (direct) return direct.count;
  const viaCall = loops.filter((l) => l.callsFunction);
  return viaCall.length > 0 ? viaCall[viaCall.length - 1].count : undefined;
}

function numberOf(node: AstNode, constants: ReadonlyMap<string, number>): number | undefined {
  if (node.type === "Literal" && typeof node.value === "number") return node.value;
  if (node.type === "Identifier") return constants.get(String(node.name));
  if (node.type === "TSAsExpression" && isNode(node.expression)) return numberOf(node.expression, constants);
  if (node.type === "BinaryExpression" && isNode(node.left) && isNode(node.right)) {
    const a = numberOf(node.left, constants);
    const b = numberOf(node.right, constants);
    if (a === undefined || b === undefined) return undefined;
    if (node.operator === "*") return a * b;
    if (node.operator === "+") return a + b;
    if (node.operator === "-") return a - b;
  }
  return undefined;
}

/** `for (let i = A; i < B; i++)` (or `<=`, `++i`, `i += 1`) with A and B known: its iteration count. */
function countedLoop(loop: AstNode, constants: ReadonlyMap<string, number>, source: string): CountedLoop | undefined {
  const { init, test, update, body } = loop;
  if (!isNode(init) || init.type !== "VariableDeclaration" || !isNode(test) || !isNode(update) || !isNode(body)) return undefined;
  const [declaration] = init.declarations as AstNode[];
  if (!declaration || !isNode(declaration.id) || declaration.id.type !== "Identifier" || !isNode(declaration.init)) return undefined;
  const name = declaration.id.name;
  const start = numberOf(declaration.init, constants);
  if (start === undefined || test.type !== "BinaryExpression" || !isNode(test.left) || test.left.type !== "Identifier" || test.left.name !== name || !isNode(test.right)) return undefined;
  const end = numberOf(test.right, constants);
  if (end === undefined || (test.operator !== "<" && test.operator !== "<=")) return undefined;
  const steps = isNode(update.argument) && update.type === "UpdateExpression" && update.operator === "++" && update.argument.name === name;
  const plusOne = update.type === "AssignmentExpression" && update.operator === "+=" && isNode(update.left) && update.left.name === name && isNode(update.right) && update.right.value === 1;
  if (!steps && !plusOne) return undefined;
  const count = Math.floor(end - start) + (test.operator === "<=" ? 1 : 0);
  if (!(count > 0) || !Number.isFinite(count)) return undefined;
  return { count, callsBackward: /\.backward\s*\(/.test(source.slice(body.start, body.end)), callsFunction: callsPlainFunction(body) };
}

/** Whether the body calls a function by its name (`trainStep(…)`), not only methods (`xs.push(…)`). */
function callsPlainFunction(node: AstNode): boolean {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (!isNode(n)) continue;
    if (n.type === "CallExpression" && isNode(n.callee) && n.callee.type === "Identifier") return true;
    if (n.type === "FunctionExpression" || n.type === "ArrowFunctionExpression") continue;
    for (const key of Object.keys(n)) {
      if (key === "loc") continue;
      const child = n[key];
      if (Array.isArray(child)) stack.push(...(child as unknown[]));
      else if (typeof child === "object" && child !== null) stack.push(child);
    }
  }
  return false;
}
