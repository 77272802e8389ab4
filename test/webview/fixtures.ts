/**
 * Graphs for the webview tests and benchmark, built with the engine directly (no runner):
 * each expression gets a `SourceSite` by setting `creationSite.site` before it runs, the way
 * the runner's instrumentation does.
 */
import { Value, creationSite, mulberry32, snapshotGraph, topologicalOrder } from "../../src/engine";
import type { RunResult, SourceSite } from "../../src/protocol/result";
import { readFileSync } from "node:fs";
import { runFile } from "../../src/runner";
import { useBuiltWorker } from "../unit/runnerSupport";
import { resolve } from "node:path";

export const fixtureFile = "/project/examples/fixture.grad.ts";

/** Records sites; `at(line, text)` makes later values belong to that source expression. */
export class SiteBook {
  readonly sites: SourceSite[] = [{ id: 0, file: "", line: 0, column: 0, endLine: 0, endColumn: 0, text: "" }];
  private readonly byKey = new Map<string, number>();

  at(line: number, text: string, binding?: string, functionName?: string): void {
    const key = `${line}:${text}:${functionName ?? ""}`;
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.sites.length;
      this.sites.push({ id, file: fixtureFile, line, column: 3, endLine: line, endColumn: 3 + text.length, text, binding, functionName });
      this.byKey.set(key, id);
    }
    creationSite.site = id;
  }

  done(): void {
    creationSite.site = 0;
  }
}

export function resultOf(root: Value, sites: SourceSite[], name = "root"): RunResult {
  const graph = snapshotGraph(root);
  return {
    ok: true,
    language: "typescript",
    file: fixtureFile,
    roots: [{ name, reason: "backward", graph }],
    sites,
    bindings: [],
    console: [],
    stats: { durationMs: 0, nodeCount: graph.nodeCount },
  };
}

/** The tutorial's example, z = x*y + w with x=2, y=3, w=1. */
export function tutorialGraph(): RunResult {
  const book = new SiteBook();
  book.at(1, "new Value(2)", "x");
  const x = new Value(2).named("x");
  book.at(2, "new Value(3)", "y");
  const y = new Value(3).named("y");
  book.at(3, "new Value(1)", "w");
  const w = new Value(1).named("w");
  book.at(4, "x.mul(y)", "xy");
  const xy = x.mul(y).named("xy");
  book.at(5, "xy.add(w)", "z");
  const z = xy.add(w).named("z");
  book.done();
  z.backward();
  return resultOf(z, book.sites, "z");
}

/** micrograd's "more ops" test: g = 24.704…, dg/da = 138.83…, dg/db = 645.57…; nodes reused. */
export function microgradGraph(): RunResult {
  const book = new SiteBook();
  book.at(1, "new Value(-4)", "a");
  const a = new Value(-4).named("a");
  book.at(2, "new Value(2)", "b");
  const b = new Value(2).named("b");
  book.at(3, "a.add(b)", "c");
  let c = a.add(b);
  book.at(4, "a.mul(b).add(b.pow(3))", "d");
  let d = a.mul(b).add(b.pow(3));
  book.at(5, "c.add(c).add(1)", "c");
  c = c.add(c.add(1));
  book.at(6, "c.add(1).add(c).add(a.neg())", "c");
  c = c.add(new Value(1).add(c).add(a.neg()));
  book.at(7, "d.add(d.mul(2)).add(b.add(a).relu())", "d");
  d = d.add(d.mul(2).add(b.add(a).relu()));
  book.at(8, "d.add(d.mul(3)).add(b.sub(a).relu())", "d");
  d = d.add(d.mul(3).add(b.sub(a).relu()));
  book.at(9, "c.sub(d)", "e");
  const e = c.sub(d);
  book.at(10, "e.pow(2)", "f");
  const f = e.pow(2);
  book.at(11, "f.div(2)", "g");
  let g = f.div(2);
  book.at(12, "g.add(new Value(10).div(f))", "g");
  g = g.add(new Value(10).div(f)).named("g");
  book.done();
  g.backward();
  return resultOf(g, book.sites, "g");
}

/**
 * A layered MLP-like graph of about `target` nodes: dense layers of tanh neurons with a sum
 * of squares loss, every expression on its own "line" inside functions, like real model code.
 */
export function mlpGraph(target: number, seed = 1): RunResult {
  const random = mulberry32(seed);
  const book = new SiteBook();
  const width = Math.max(2, Math.round(Math.sqrt(target / 6)));
  let layer: Value[] = [];
  book.at(1, "inputs.map((x) => new Value(x))", "x", "main");
  for (let k = 0; k < width; k++) layer.push(new Value(random() * 2 - 1).named(`x${k}`));
  let nodes = width;
  let depth = 0;
  while (nodes < target * 0.9) {
    const next: Value[] = [];
    for (let j = 0; j < width && nodes < target * 0.95; j++) {
      book.at(10, "new Value(random())", "w", "neuron");
      const weights = layer.map((_, k) => new Value(random() * 2 - 1).named(`w${depth}_${j}_${k}`));
      book.at(11, "w[i].mul(x[i])", "wx", "neuron");
      const products = layer.map((x, k) => weights[k].mul(x));
      book.at(12, "sum(products)", "act", "neuron");
      let act = products[0];
      for (let k = 1; k < products.length; k++) act = act.add(products[k]);
      book.at(13, "act.tanh()", "out", "neuron");
      next.push(act.tanh().named(`h${depth}_${j}`));
      nodes += 3 * layer.length + 1;
    }
    layer = next;
    depth++;
  }
  book.at(20, "out.pow(2)", "sq", "loss");
  let loss = layer[0].pow(2);
  for (let k = 1; k < layer.length; k++) loss = loss.add(layer[k].pow(2));
  loss.named("loss");
  book.done();
  loss.backward();
  return resultOf(loss, book.sites, "loss");
}

/** A graph whose labels try to be HTML, and whose values go non-finite. */
export function hostileGraph(): RunResult {
  const book = new SiteBook();
  book.at(1, "new Value(0)", "<img src=x onerror=alert(1)>");
  const zero = new Value(0).named("<img src=x onerror=alert(1)>");
  book.at(2, "zero.log()", "bad");
  const bad = zero.log().named("bad");
  book.at(3, "bad.mul(2)", "out");
  const out = bad.mul(2).named("<b>out</b>");
  book.done();
  out.backward();
  return resultOf(out, book.sites, "out");
}

/**
 * One microgpt training step's graph (examples/microgpt/model.ts), with sites taken from the
 * call stack the way the runner would record them: each value belongs to the model.ts
 * expression that made it, inside its function (linear, softmax, rmsnorm, gpt, …).
 */
export async function microgptGraph(doc = "abigail"): Promise<RunResult> {
  const { createModel, documentLoss } = await import("../../examples/microgpt/model");
  const docs = readFileSync(resolve(__dirname, "../../examples/names.txt"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l);
  const model = createModel({ docs });
  const book = new StackSites();
  const restore = book.install();
  let loss: Value;
  try {
    loss = documentLoss(model, doc);
  } finally {
    restore();
  }
  loss.backward();
  return { ...resultOf(loss, book.sites, "loss"), file: book.file ?? fixtureFile };
}

/** Patches Value's op methods to set `creationSite` from the first stack frame outside the engine. */
class StackSites {
  readonly sites: SourceSite[] = [{ id: 0, file: "", line: 0, column: 0, endLine: 0, endColumn: 0, text: "" }];
  file: string | undefined;
  private readonly byLocation = new Map<string, number>();
  private lines: string[] | undefined;

  install(): () => void {
    const proto = Value.prototype as unknown as Record<string, (...args: unknown[]) => Value>;
    const names = ["add", "mul", "pow", "exp", "log", "relu", "tanh", "sigmoid", "neg", "sub", "div"];
    const originals = names.map((n) => proto[n]);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 12;
    const siteFromStack = (stack: string, op: string): number => this.siteFromStack(stack, op);
    names.forEach((name, k) => {
      const original = originals[k];
      proto[name] = function (this: Value, ...args: unknown[]): Value {
        const outer = creationSite.site;
        if (outer === 0) creationSite.site = siteFromStack(new Error().stack ?? "", name);
        try {
          return original.apply(this, args);
        } finally {
          creationSite.site = outer;
        }
      };
    });
    return () => {
      names.forEach((name, k) => (proto[name] = originals[k]));
      Error.stackTraceLimit = limit;
    };
  }

  private siteFromStack(stack: string, op: string): number {
    let location: RegExpExecArray | undefined;
    let functionName: string | undefined;
    for (const line of stack.split("\n").slice(2)) {
      const m = /at (?:(\S+) \()?(.*model\.ts):(\d+):(\d+)\)?$/.exec(line.trim());
      if (!m) continue;
      location ??= m;
      const name = m[1]?.replace(/^Object\./, "").split(".").pop();
      if (name && name !== "<anonymous>") {
        functionName = name;
        break;
      }
    }
    if (!location) return 0;
    const key = `${location[3]}:${location[4]}`;
    let id = this.byLocation.get(key);
    if (id === undefined) {
      id = this.sites.length;
      const file = location[2];
      const line = Number(location[3]);
      const column = Number(location[4]);
      this.lines ??= readFileSync(file, "utf8").split("\n");
      const text = (this.lines[line - 1] ?? "").slice(column - 1).trim().slice(0, 48) || `${op}(…)`;
      this.file = file;
      this.sites.push({ id, file, line, column, endLine: line, endColumn: column + text.length, text, functionName });
      this.byLocation.set(key, id);
    }
    return id;
  }
}

/**
 * A program's graph as the real TypeScript runner records it (sites, bindings, call stacks):
 * test/fixtures/callFrames/{mlp,microgptStep}.grad.ts.
 */
export async function runnerGraph(name: "mlp" | "microgptStep"): Promise<RunResult> {
  useBuiltWorker();
  const result = await runFile(resolve(__dirname, "../fixtures/callFrames", `${name}.grad.ts`));
  if (!result.ok) throw new Error(result.error?.message ?? "run failed");
  return result;
}

/**
 * micrograd's MLP as the Python tracer reports it (built by hand here): `MLP(3, [16, 16, 1])`
 * called on one input, each value made inside `MLP.__call__` → `Layer.__call__` → `Neuron.__call__`
 * (the call frames the tracer records, in the TypeScript runner's format), the parameters made at
 * the top, and the loss after the call.
 */
export function pythonMlpGraph(): RunResult {
  const random = mulberry32(7);
  const book = new SiteBook();
  const file = "/project/demo.py";
  const functions = ["MLP.__call__", "Layer.__call__", "Neuron.__call__"].map((name, k) => ({ name, file, line: 40 + 10 * k }));
  const parent: number[] = [];
  const fn: number[] = [];
  const callSite: number[] = [];
  const callOf = new Map<Value, number>();
  let current = -1;
  const call = <T>(f: number, site: number, body: () => T): T => {
    const k = parent.length;
    parent.push(current);
    fn.push(f);
    callSite.push(site);
    const outer = current;
    current = k;
    try {
      return body();
    } finally {
      current = outer;
    }
  };
  const made = (v: Value): Value => (callOf.set(v, current), v);
  const sizes = [3, 16, 16, 1];
  book.at(30, "Value(random.uniform(-1, 1))", "w", "__init__");
  const layers = sizes.slice(1).map((out, l) => Array.from({ length: out }, () => ({ w: Array.from({ length: sizes[l] }, () => made(new Value(random() * 2 - 1))), b: made(new Value(0)) })));
  book.at(60, "[Value(x) for x in xs]", "x");
  const xs = [2, 3, -1].map((x) => made(new Value(x)));
  book.at(61, "model(x)", "out");
  const callSiteOfModel = creationSite.site;
  const out = call(0, callSiteOfModel, () => {
    let x = xs;
    layers.forEach((layer) => {
      book.at(41, "layer(x)", "x", "__call__");
      const layerSite = creationSite.site;
      x = call(1, layerSite, () =>
        layer.map((neuron) => {
          book.at(51, "neuron(x)", undefined, "__call__");
          return call(2, creationSite.site, () => {
            book.at(52, "sum((wi*xi for wi, xi in zip(self.w, x)), self.b)", "act", "__call__");
            let act = neuron.b;
            neuron.w.forEach((w, i) => (act = made(act.add(made(w.mul(x[i]))))));
            book.at(53, "act.tanh()", "out", "__call__");
            return made(act.tanh());
          });
        }),
      );
      book.at(41, "layer(x)", "x", "__call__");
    });
    return x[0];
  });
  book.at(62, "(out - 1)**2", "loss");
  const loss = made(made(out.sub(1)).pow(2));
  book.done();
  loss.backward();
  const result = resultOf(loss, book.sites.map((site) => (site.id > 0 ? { ...site, file } : site)), "loss");
  const order = topologicalOrder(loss);
  result.language = "python";
  result.file = file;
  result.roots[0].frames = {
    functions,
    parent: Int32Array.from(parent),
    fn: Int32Array.from(fn),
    callSite: Int32Array.from(callSite),
    node: Int32Array.from(order, (v) => callOf.get(v) ?? -1),
  };
  return result;
}
