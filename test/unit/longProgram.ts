/**
 * A learner's long script, written out in full (no loop): `lines` statements of a few ops each, then
 * a backward(). The bundling thread's unit and integration tests and the runner bench use it.
 */

/** Nodes in its graph: per line two constants, two products and a sum; then x, w and the tanh. */
export const longProgramNodes = (lines: number): number => lines * 5 + 3;

export function longProgram(lines: number): string {
  const body = Array.from({ length: lines }, (_, i) => `const v${i} = ${i === 0 ? "x" : `v${i - 1}`}.mul(${1 + (i % 7) / 100}).add(w.mul(${(i % 5) / 1000}));`);
  return `import { Value } from "gradlens";\nconst x = new Value(0.5);\nconst w = new Value(-1.5);\n${body.join("\n")}\nconst loss = v${lines - 1}.tanh();\nloss.backward();\nconsole.log(loss.data, x.grad, w.grad);\n`;
}
