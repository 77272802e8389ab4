/**
 * The worker thread where user code runs (built to dist/runnerWorker.js). It runs the bundled
 * code with the engine the bundle imports as "gradlens", records roots, bindings and console
 * output, runs gradient checks, and posts back snapshots with their buffers transferred.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as vm from "node:vm";
import { createRequire } from "node:module";
import { format } from "node:util";
import { dirname } from "node:path";
import { getHeapStatistics } from "node:v8";
import * as l10n from "@vscode/l10n";
import { useTranslations } from "./localization";
import * as engine from "../engine";
import { Value, creationSite, topologicalOrder, snapshotGraph, findNonFiniteData, findNonFiniteGrad, type GraphSnapshot } from "../engine";
import { HELPERS } from "./helpers";
import { describeThrown, framesOf, BUNDLE_FILENAME } from "./workerErrors";
import { modelChecks, runChecks } from "./workerChecks";
import { BackwardWatch } from "./backwardWarnings";
import { checkOps, type OpGraph } from "./opCheck";
import { rerunForward } from "./opCheckRerun";
import { packLabels } from "./labelTransfer";
import { BackwardStates } from "./backwardState";
import { describeNonFinite } from "./nonFiniteMessage";
import type { WorkerInput, WorkerOutput, WorkerRoot, WorkerBinding, WorkerError } from "./protocol";

const MAX_CONSOLE_LINES = 2000;
const MAX_CONSOLE_CHARS = 200_000;
const MAX_BACKWARD_SITES = 16;

/** Thrown by the stubbed `process.exit` to end the user's code without ending the worker. */
class ExitRequest {
  constructor(readonly code: number) {}
}

async function main(input: WorkerInput & { entryFile: string }): Promise<void> {
  const started = performance.now();
  useTranslations(input.translations);
  const currentSite = new Int32Array(input.currentSite);
  const output: WorkerOutput = { roots: [], bindings: [], durationMs: 0, heapUsedMb: 0 };

  // --- console capture -------------------------------------------------------------------
  let consoleChars = 0;
  let consoleFull = false;
  let consoleLines = 0;
  const capture = (stream: "stdout" | "stderr") => (...args: unknown[]) => {
    if (consoleFull) return;
    let text: string;
    try {
      text = format(...args);
    } catch {
      text = "(output that could not be printed)";
    }
    if (consoleLines >= MAX_CONSOLE_LINES || consoleChars + text.length > MAX_CONSOLE_CHARS) {
      consoleFull = true;
      parentPort?.postMessage({ console: { stream: "stderr", text: l10n.t("… more output was cut off"), siteId: 0 } });
      return;
    }
    consoleChars += text.length;
    // Streamed as it happens, so a run that is stopped later still shows what it printed.
    parentPort?.postMessage({ console: { stream, text, siteId: creationSite.site } });
    consoleLines++;
  };
  for (const name of ["log", "info", "debug", "trace", "dir", "table"] as const) console[name] = capture("stdout");
  for (const name of ["warn", "error"] as const) console[name] = capture("stderr");
  process.exit = ((code?: number) => {
    throw new ExitRequest(typeof code === "number" ? code : 0);
  }) as typeof process.exit;
  let asyncError: unknown = undefined;
  let hasAsyncError = false;
  const onAsyncError = (reason: unknown) => {
    if (!hasAsyncError) {
      hasAsyncError = true;
      asyncError = reason;
    }
  };
  process.on("unhandledRejection", onAsyncError);
  process.on("uncaughtException", onAsyncError);

  // --- roots and bindings ----------------------------------------------------------------
  const backwardRoots = new Map<number, { value: Value; calls: number; epoch: number }>();
  let recordBackward = true;
  const states = new BackwardStates();
  const originalBackward = Value.prototype.backward;
  const watch = new BackwardWatch();
  Value.prototype.backward = function (this: Value) {
    const site = creationSite.site;
    if (recordBackward) watch.before(this, site);
    originalBackward.call(this);
    if (recordBackward) {
      const entry = backwardRoots.get(site);
      if (entry) {
        entry.value = this;
        entry.calls++;
        entry.epoch = states.recordBackward(entry.epoch);
      } else if (backwardRoots.size < MAX_BACKWARD_SITES) {
        backwardRoots.set(site, { value: this, calls: 1, epoch: states.recordBackward() });
      }
    }
  };

  const bindingCount = input.bindingNames.length;
  const bindingLast: (Value | undefined)[] = new Array(bindingCount).fill(undefined);
  const bindingCounts = new Float64Array(bindingCount);
  let lastValue: Value | undefined;
  let lastBinding = -1;
  const registered = new Map<string, unknown>();
  const functionOfSite = (site: number): string | undefined => input.siteFunctions?.[site] ?? undefined;

  const helpers: Record<string, unknown> = {
    [HELPERS.site]: (site: number, x: unknown) => {
      creationSite.site = site;
      return x;
    },
    [HELPERS.bind]: (binding: number, x: unknown) => {
      if (x instanceof Value) {
        if (x.label === undefined) x.label = input.bindingNames[binding];
        bindingCounts[binding]++;
        bindingLast[binding] = x;
        lastValue = x;
        lastBinding = binding;
      }
      return x;
    },
    [HELPERS.loop]: (site: number) => {
      currentSite[0] = site;
    },
    [HELPERS.expression]: (x: unknown) => {
      if (x instanceof Value) {
        lastValue = x;
        lastBinding = -1;
      }
      return x;
    },
    [HELPERS.register]: (name: string, fn: unknown) => {
      registered.set(name, fn);
    },
    [HELPERS.write]: (x: unknown) => {
      if (x instanceof Value) states.beforeWrite(x);
      return x;
    },
  };

  // --- run -------------------------------------------------------------------------------
  const userRequire = createRequire(input.entryFile);
  // A plain object, not the bundle's namespace (whose exports are getters): `import_gradlens.Value` stays a cheap load.
  const engineModule: Record<string, unknown> = { ...engine };
  // zeroGrad writes grads outside user code: it reports them like an instrumented write would.
  engineModule.zeroGrad = (root: Value) => {
    for (const v of engine.topologicalOrder(root)) states.beforeWrite(v);
    engine.zeroGrad(root);
  };
  const sandboxRequire = (specifier: string): unknown => (specifier === "gradlens" ? engineModule : userRequire(specifier));
  const module = { exports: {} as unknown };
    // CommonJS's module variables; __dirname/__filename are the entry file's (the bundle has no file of its own).
  const paramNames = ["require", "module", "exports", "__filename", "__dirname", ...Object.keys(helpers), ...input.injectedHelpers];
  const paramValues = [sandboxRequire, module, module.exports, input.entryFile, dirname(input.entryFile), ...Object.values(helpers), ...input.injectedHelpers.map((n) => engineModule[n])];
  Error.stackTraceLimit = 50;
  try {
    const run = vm.compileFunction(input.code, paramNames, { filename: BUNDLE_FILENAME });
    run.apply(module.exports, paramValues);
    // Let promise chains the code started (an async main) settle before reading the results.
    await new Promise((resolve) => setImmediate(resolve));
  } catch (thrown) {
    output.error = errorOf(thrown);
  }
  if (!output.error && hasAsyncError) output.error = errorOf(asyncError);

  // --- gradient checks -------------------------------------------------------------------
  if (input.checks) {
    recordBackward = false;
    states.enabled = false;
    output.checks = runChecks(input.checks, registered, input.gradcheck ?? {}, errorOf, { functionOfSite });
    recordBackward = true;
  }

  // --- results ---------------------------------------------------------------------------
  const roots: { value: Value; reason: "backward" | "last-value"; siteId: number; calls: number; name?: string; epoch?: number }[] = [];
  for (const [siteId, { value, calls, epoch }] of backwardRoots) roots.push({ value, reason: "backward", siteId, calls, epoch });
  if (roots.length === 0 && lastValue) {
    roots.push({ value: lastValue, reason: "last-value", siteId: lastValue.site, calls: 0, name: lastBinding >= 0 ? input.bindingNames[lastBinding] : undefined });
  }
  const opGraphs = new Map<OpGraph, readonly Value[]>();
  const transfer: ArrayBuffer[] = [];
  const bindingNodes = new Map<Value, number[]>();
  bindingLast.forEach((v, id) => {
    if (v) bindingNodes.set(v, [...(bindingNodes.get(v) ?? []), id]);
  });
  const nodeOfBinding: (WorkerBinding["node"] | undefined)[] = new Array(bindingCount).fill(undefined);
  try {
    for (const root of roots) {
      const order = topologicalOrder(root.value);
      const index = output.roots.length;
      const name = root.value.label ?? root.name ?? l10n.t("root #{0}", index + 1);
      if (input.nodeLimit !== undefined && order.length > input.nodeLimit) {
        output.error ??= {
          kind: "too-large",
          message: l10n.t("the graph of {0} has {1} nodes, more than the limit of {2}", name, order.length.toLocaleString("en-US"), input.nodeLimit.toLocaleString("en-US")),
          frames: [],
          siteId: root.siteId,
        };
        continue;
      }
      const graph = snapshotGraph(root.value, order);
      if (root.epoch !== undefined) restoreBackwardState(graph, order, states, root.epoch);
      if (input.opChecks) opGraphs.set({ root: index, graph: { ...graph } }, order); // a copy keeps the labels packed below
      const labels = packLabels(graph.labels);
      graph.labels = {};
      const workerRoot: WorkerRoot = { name, reason: root.reason, siteId: root.siteId, graph, labels };
      if (root.calls > 1) workerRoot.calls = root.calls;
      output.roots.push(workerRoot);
      for (const array of [graph.op, graph.data, graph.grad, graph.site, graph.childStart, graph.child, graph.localGrad, labels.ids, labels.nameIndex]) {
        transfer.push(array.buffer as ArrayBuffer);
      }
      if (bindingNodes.size > 0) {
        for (let i = 0; i < order.length; i++) {
          const ids = bindingNodes.get(order[i]);
          if (ids) for (const id of ids) nodeOfBinding[id] ??= { root: index, id: i };
        }
      }
      if (!output.nonFinite) {
        const origin = findNonFiniteData(root.value, order) ?? findNonFiniteGrad(root.value, order);
        if (origin) {
          output.nonFinite = {
            field: origin.field,
            value: origin.value,
            op: origin.node.op,
            root: index,
            id: order.indexOf(origin.node),
            siteId: origin.node.site,
            message: describeNonFinite(origin),
          };
        }
      }
    }
  } catch (thrown) {
    output.error ??= errorOf(thrown);
  }
  if (input.opChecks) {
    recordBackward = false;
    states.enabled = false;
    try {
      output.opChecks = checkOps([...opGraphs.keys()], { userForward: rerunForward(opGraphs, registered, functionOfSite) });
      if (output.checks) output.checks.push(...modelChecks(opGraphs, output.roots.map((r) => r.name), registered, input.gradcheck ?? {}, { functionOfSite }, new Set(output.checks.map((c) => c.name))));
    } catch (thrown) {
      output.error ??= errorOf(thrown);
    }
  }
  if (watch.warnings.length > 0) output.warnings = watch.warnings;
  bindingLast.forEach((v, id) => {
    if (!v) return;
    const binding: WorkerBinding = { id, data: v.data, grad: v.grad, op: v.op, count: bindingCounts[id] };
    const node = nodeOfBinding[id];
    if (node) binding.node = node;
    output.bindings.push(binding);
  });
  output.durationMs = performance.now() - started;
  output.heapUsedMb = getHeapStatistics().used_heap_size / 2 ** 20;
  parentPort?.postMessage(output, transfer);
}

/** The numbers as they were at the root's backward(), where user code changed them since. */
function restoreBackwardState(graph: GraphSnapshot, order: readonly Value[], states: BackwardStates, epoch: number): void {
  for (let i = 0; i < order.length; i++) {
    const state = states.stateAt(order[i], epoch);
    if (state) {
      graph.data[i] = state.data;
      graph.grad[i] = state.grad;
    }
  }
}

/** Any thrown thing as a learner-readable error with its bundle frames. */
function errorOf(thrown: unknown): WorkerError {
  if (thrown instanceof ExitRequest) {
    return { kind: "runtime", message: l10n.t("the code called process.exit({0})", String(thrown.code)), frames: [], siteId: creationSite.site };
  }
  return { kind: "runtime", message: describeThrown(thrown), frames: framesOf(thrown), siteId: creationSite.site };
}

main(workerData as WorkerInput & { entryFile: string }).catch((error: unknown) => {
  parentPort?.postMessage({ internalError: describeThrown(error) });
});
