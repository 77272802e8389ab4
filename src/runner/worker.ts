/**
 * The child process where user code runs (built to dist/runnerWorker.js; workerHost.ts starts it).
 * It runs the bundled code with the engine the bundle imports as "gradlens", records roots,
 * bindings and console output, runs gradient checks, and sends back snapshots over its channel
 * to the host. A stop at a limit (watchdog.ts) or the program's own exit still sends everything
 * recorded: the graphs of the last completed backward() calls, the output, the bindings, and
 * where the program was.
 */
import * as vm from "node:vm";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { getHeapStatistics } from "node:v8";
import * as l10n from "@vscode/l10n";
import { useTranslations } from "./localization";
import * as engine from "../engine";
import { Value, creationSite, valuesCreated, topologicalOrder, snapshotGraphPacked, findNonFiniteData, findNonFiniteGrad, type GraphSnapshot } from "../engine";
import { numberPositions, observeBackward, positionIn } from "../engine/value";
import { HELPERS } from "./helpers";
import { describeThrown, framesOf, BUNDLE_FILENAME } from "./workerErrors";
import { learnerOpChecks, modelChecks, runChecks } from "./workerChecks";
import { BackwardWatch } from "./backwardWarnings";
import { checkOps, sortOps, type OpGraph } from "./opCheck";
import { rerunForward } from "./opCheckRerun";
import { unpackLabels } from "./labelTransfer";
import { BackwardStates } from "./backwardState";
import { describeNonFinite } from "./nonFiniteMessage";
import { UserValues } from "./userValues";
import { CallFrameRecorder } from "./callFrames";
import type { WorkerInput, WorkerOutput, WorkerRoot, WorkerBinding, WorkerError } from "./protocol";
import { StopTraining, WorkerTraining, firstCheckpointGapMs, type SharedSnapshot } from "./training/workerTraining";
import { CHECKPOINT_SHARE } from "../protocol/limits";
import { exitAfterResult, exitProcess, guardProcessKill, openChildChannel, type ChildChannel } from "./process/childChannel";
import { startWatchdog, STOP, type StopReason, type Watchdog } from "./process/watchdog";
import { ConsoleCapture } from "./process/consoleCapture";

const MAX_BACKWARD_SITES = 16;

/** Thrown by the stubbed `process.exit` to end the user's code where it is (then the run ends for real). */
class ExitRequest extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

/** Thrown at a loop or call of the user's code once a limit is reached; its stack is where the program was. */
class StopRequest extends Error {
  constructor(readonly reason: StopReason | "cancelled") {
    super(`GradLens stopped the run (${reason})`);
  }
}

async function main(input: WorkerInput, channel: ChildChannel, watchdog: Watchdog): Promise<void> {
  const started = performance.now();
  const startedCpu = process.cpuUsage();
  useTranslations(input.translations);
  // The process may have been started before its run (process/warmChild.ts): the program's directory is set now.
  try {
    process.chdir(dirname(input.entryFile));
  } catch {
    // A snippet of a file not on disk: its directory may not exist; the process's own stays.
  }

  // --- how the run ends: once, with everything recorded -----------------------------------
  let ending: WorkerError | undefined;
  let ended = false;
  let stopReason: StopReason | "cancelled" | undefined;
  const stopFlag = watchdog.flag;
  watchdog.arm(input, (reason) => requestStop(reason));
  const requestStop = (reason: StopReason | "cancelled") => {
    stopReason ??= reason;
    if (Atomics.load(stopFlag, 0) === STOP.none) Atomics.store(stopFlag, 0, reason === "memory" ? STOP.memory : STOP.timeout);
    // A program that waits (a timer, a promise) is not at a loop to notice: end it from here.
    setImmediate(() => finish(stopError(new StopRequest(reason))));
  };
  channel.onStop(requestStop);
  const stopNow = () => {
    stopReason ??= Atomics.load(stopFlag, 0) === STOP.memory ? "memory" : "timeout";
    throw new StopRequest(stopReason);
  };

  // --- console capture -------------------------------------------------------------------
  const printed = new ConsoleCapture(input, channel, () => creationSite.site);
  for (const name of ["log", "info", "debug", "trace", "dir", "table"] as const) console[name] = printed.console("stdout");
  for (const name of ["warn", "error"] as const) console[name] = printed.console("stderr");
  printed.captureStreams();
  guardProcessKill(() => printed.flush());
  process.exit = ((code?: number | string | null) => {
    throw new ExitRequest(Number.isInteger(Number(code ?? 0)) ? Number(code ?? 0) : 1);
  }) as typeof process.exit;
  // An error in a timer or a rejected promise nobody handles ends a Node program: here, the run, at its line.
  const onAsyncError = (reason: unknown) => finish(errorOf(reason));
  process.on("unhandledRejection", onAsyncError);
  process.on("uncaughtException", onAsyncError);

  // --- roots and bindings ----------------------------------------------------------------
  const backwardRoots = new Map<number, { value: Value; calls: number; epoch: number }>();
  let recordBackward = true;
  const states = new BackwardStates();
  const watch = new BackwardWatch();
  let training: WorkerTraining | undefined;
  let lastCheckpoint = started;
  let lastBackward = 0;
  observeBackward((root) => {
    if (!recordBackward) return;
    const site = creationSite.site;
    watch.check(root, site);
    lastBackward = performance.now();
    training?.afterBackward(root, site);
    const entry = backwardRoots.get(site);
    if (entry) {
      entry.value = root;
      entry.calls++;
      entry.epoch = states.recordBackward(entry.epoch);
    } else if (backwardRoots.size < MAX_BACKWARD_SITES) {
      backwardRoots.set(site, { value: root, calls: 1, epoch: states.recordBackward() });
    }
    checkpointIfDue();
    // Stop, `--steps N`: ends the program here, right after this backward() was recorded.
    training?.stopIfAsked();
  });
  /**
   * Now and then the graphs so far go to the host: if the run is killed hard, they are what is left.
   * A checkpoint of a big graph (a walk, a snapshot, its calls, a message) costs a few of its steps,
   * so the next one waits long enough that checkpoints stay a small share of the run's time. A
   * training run streams its records and kept graphs as it goes (a recent graph every
   * LIVE_GRAPH_MS): its first checkpoint waits as long.
   */
  let checkpointGapMs = firstCheckpointGapMs(input.checkpointIntervalMs, input.training !== undefined);
  function checkpointIfDue(): void {
    if (lastBackward - lastCheckpoint >= checkpointGapMs) {
      const before = performance.now();
      channel.send({ type: "checkpoint", output: collect() });
      lastCheckpoint = performance.now();
      checkpointGapMs = Math.max(input.checkpointIntervalMs, (lastCheckpoint - before) * CHECKPOINT_SHARE);
    }
  }

  const bindingCount = input.bindingNames.length;
  const bindingLast: (Value | undefined)[] = new Array(bindingCount).fill(undefined);
  const bindingCounts = new Float64Array(bindingCount);
  // The last Value the code bound or left as a top-level expression: `lastBinding` ≥ 0 names the
  // binding (its value is bindingLast[lastBinding]), -1 means `lastExpression`. The binding hook runs
  // once per op in a hot loop, so it stores one number here rather than a second object reference.
  let lastBinding = -1;
  let lastExpression: Value | undefined;
  const lastValueNow = (): Value | undefined => (lastBinding >= 0 ? bindingLast[lastBinding] : lastExpression);
  /** The bindings as they are now; calling the result puts them back. */
  const keepBindings = (): (() => void) => {
    const last = bindingLast.slice();
    const counts = bindingCounts.slice();
    const binding = lastBinding;
    const expression = lastExpression;
    const restoreUser = userValues.keepBindings();
    return () => {
      for (let i = 0; i < bindingCount; i++) bindingLast[i] = last[i];
      bindingCounts.set(counts);
      lastBinding = binding;
      lastExpression = expression;
      restoreUser();
    };
  };
  const registered = new Map<string, unknown>();
  const functionOfSite = (site: number): string | undefined => input.siteFunctions?.[site] ?? undefined;
  // Learners' own Value classes; their backward() calls count as the engine's do.
  const userValues = new UserValues(
    input.bindingNames,
    () => {
      lastBackward = performance.now();
      checkpointIfDue();
    },
    (root, site) => watch.check(root, site, () => userValues.firstStaleLeaf(root)),
  );
  const frames = new CallFrameRecorder(() => creationSite.site);
  if (input.training) {
    training = new WorkerTraining(input.training, {
      bindingNames: input.bindingNames,
      boundValues: bindingLast,
      groupOfSite: (site) => input.training?.siteLabels[site] ?? "?",
      nodeLimit: input.nodeLimit,
      post: (progress) => channel.send({ type: "training", progress }),
      started,
      framesFor: (order) => frames.framesFor(order),
    });
    training.attachUserValues(userValues);
  }

  const bindObject = (binding: number, x: object) => {
    userValues.bind(binding, x);
    training?.noteBinding(binding, x);
  };
  // The site, binding and loop hooks run at every op of a hot loop, which TurboFan compiles with
  // them and the engine's ops inlined, within a budget of bytecode per function: they stay small,
  // with rarer work in functions of their own, so the engine's ops still fit.
  const helpers: Record<string, unknown> = {
    [HELPERS.site]: (site: number, x: unknown) => {
      // Any stop reason is non-zero (STOP.none is 0): a truth test is the smallest check.
      if (stopFlag[0]) stopNow();
      creationSite.site = site;
      return x;
    },
    [HELPERS.bind]: (binding: number, x: unknown) => {
      if (x instanceof Value) {
        // Only a value the bound expression just made takes the name: `let act = this.b` must not rename the bias.
        if (x.label === undefined && x.id === valuesCreated() - 1) x.label = input.bindingNames[binding];
        bindingCounts[binding]++;
        bindingLast[binding] = x;
        lastBinding = binding;
      } else if (typeof x === "object" && x !== null) bindObject(binding, x); // numbers and strings are neither kind of Value
      return x;
    },
    [HELPERS.loop]: () => {
      if (stopFlag[0]) stopNow();
    },
    [HELPERS.expression]: (x: unknown) => {
      if (x instanceof Value) {
        lastExpression = x;
        lastBinding = -1;
      } else userValues.expression(x);
      return x;
    },
    [HELPERS.register]: (name: string, fn: unknown) => {
      registered.set(name, fn);
    },
    [HELPERS.made]: (x: unknown) => userValues.made(x),
    [HELPERS.write]: (x: unknown) => {
      if (x instanceof Value) states.beforeWrite(x);
      return x;
    },
    ...frames.helpers(HELPERS.frameEnter, HELPERS.frameExit),
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
  } catch (thrown) {
    // A training run asked to stop ends the program there, cleanly.
    finish(thrown instanceof StopTraining ? undefined : errorOf(thrown));
    return;
  }
  // As Node does: the program ends when its event loop has nothing left to do (an async main, timers).
  process.once("beforeExit", () => finish(undefined));

  /** Ends the run once: gradient checks, then everything recorded goes to the host. */
  function finish(error: WorkerError | undefined): void {
    if (ended) return;
    ended = true;
    ending = error;
    const result = collect(true);
    printed.flush(true);
    channel.send({ type: "result", output: result }, exitAfterResult);
  }

  function stopError(thrown: StopRequest): WorkerError {
    const quietMs = performance.now() - Math.max(started, lastBackward, printed.lastWriteAt);
    return { kind: thrown.reason, message: "", frames: framesOf(thrown), siteId: creationSite.site, quietMs };
  }

  /** Any thrown thing as a learner-readable error with its bundle frames. */
  function errorOf(thrown: unknown): WorkerError {
    if (thrown instanceof StopRequest) return stopError(thrown);
    if (stopReason !== undefined) return stopError(new StopRequest(stopReason));
    if (thrown instanceof ExitRequest) {
      return { kind: "exit", message: l10n.t("the code called process.exit({0})", String(thrown.code)), frames: framesOf(thrown), siteId: creationSite.site, exitCode: thrown.code };
    }
    return { kind: "runtime", message: describeThrown(thrown), frames: framesOf(thrown), siteId: creationSite.site };
  }

  /** The run's output as it stands; `final`: with the gradient checks and the run's end. */
  function collect(final = false): WorkerOutput {
    const output: WorkerOutput = { roots: [], bindings: [], durationMs: 0, heapUsedMb: 0 };
    const exited = ending?.kind === "exit" && ending.exitCode === 0;
    if (final && ending && !exited) output.error = ending;
    // One walk and snapshot per root, shared by the result's roots and the training run's last step.
    const snapshots = new Map<Value, SharedSnapshot>();
    const snapshotOf = (value: Value, epoch: number | undefined): SharedSnapshot => {
      let shared = snapshots.get(value);
      if (!shared) {
        const order = topologicalOrder(value);
        const { graph, labels } = snapshotGraphPacked(value, order);
        // Read from the columns while they still hold the live numbers (the non-finite search reads those).
        const finite = allFinite(graph);
        if (epoch !== undefined) restoreBackwardState(graph, order, states, epoch);
        shared = { order, graph, labels: () => labels, frames: once(() => frames.framesFor(order)), finite };
        snapshots.set(value, shared);
      }
      return shared;
    };
    if (final && training) {
      try {
        // Only a backward() root's snapshot carries the numbers of its backward() (restored from the write records).
        output.training = training.finish((root) => {
          for (const entry of backwardRoots.values()) if (entry.value === root) return snapshotOf(root, entry.epoch);
          return undefined;
        });
      } catch (thrown) {
        output.error ??= errorOf(thrown);
      }
    }

    // Checks call the user's functions, whose binding hooks fire: hovers, and a root taken from the
    // last value, must stay the run's own, not a check call's.
    const restoreBindings = final && (input.checks !== undefined || input.opChecks === true) ? keepBindings() : undefined;

    // --- gradient checks (also after the top-level code threw; not once a limit was reached) --
    if (final && input.checks && stopReason === undefined) {
      recordBackward = false;
      states.enabled = false;
      userValues.enabled = false;
      output.checks = runChecks(input.checks, userValues.adaptForChecks(registered), input.gradcheck ?? {}, errorOf, { functionOfSite, lastLearnerGraph: () => userValues.lastCheckGraph() });
      // The checks' own backward() calls may have written the parameters' grads since the snapshots.
      for (const shared of snapshots.values()) shared.finite = undefined;
      recordBackward = true;
      userValues.enabled = true;
      restoreBindings?.();
    }

    // --- results ---------------------------------------------------------------------------
    const roots: { value: Value; reason: "backward" | "last-value"; siteId: number; calls: number; name?: string; epoch?: number }[] = [];
    for (const [siteId, { value, calls, epoch }] of backwardRoots) roots.push({ value, reason: "backward", siteId, calls, epoch });
    const lastValue = lastValueNow();
    if (roots.length === 0 && lastValue) {
      roots.push({ value: lastValue, reason: "last-value", siteId: lastValue.site, calls: 0, name: lastBinding >= 0 ? input.bindingNames[lastBinding] : undefined });
    }
    const bindingNodes = new Map<Value, number[]>();
    bindingLast.forEach((v, id) => {
      if (v) bindingNodes.set(v, [...(bindingNodes.get(v) ?? []), id]);
    });
    const nodeOfBinding: (WorkerBinding["node"] | undefined)[] = new Array(bindingCount).fill(undefined);
    const checkingOps = final && input.opChecks === true && stopReason === undefined;
    const opGraphs = new Map<OpGraph, readonly Value[]>();
    let learnerGraphs: Parameters<typeof learnerOpChecks>[0] = [];
    try {
      for (const root of roots) {
        const walked = snapshots.get(root.value);
        const order = walked?.order ?? topologicalOrder(root.value);
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
        const shared = snapshotOf(root.value, root.epoch);
        const { graph } = shared;
        // The op checks name nodes by their labels; the labels cross the channel packed.
        if (checkingOps) opGraphs.set({ root: index, graph: { ...graph, labels: unpackLabels(shared.labels()) } }, order);
        const workerRoot: WorkerRoot = { name, reason: root.reason, siteId: root.siteId, graph: { ...graph, labels: {} }, labels: shared.labels() };
        if (root.calls > 1) workerRoot.calls = root.calls;
        const calls = shared.frames();
        if (calls) workerRoot.frames = calls;
        output.roots.push(workerRoot);
        if (bindingNodes.size > 0) {
          for (let i = 0; i < order.length; i++) {
            const ids = bindingNodes.get(order[i]);
            if (ids) for (const id of ids) nodeOfBinding[id] ??= { root: index, id: i };
          }
        }
        // Every number finite when the snapshot read them (the usual case): no search of the graph.
        if (!output.nonFinite && shared.finite !== true) {
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
      const user = userValues.results(output.roots.length, input.nodeLimit, output.roots.length === 0);
      learnerGraphs = user.graphs;
      output.roots.push(...user.roots);
      output.bindings.push(...user.bindings);
      if (user.error) output.error = user.replacesError ? user.error : (output.error ?? user.error); // a cycle explains the failure it caused
      if (user.nonFinite) output.nonFinite ??= user.nonFinite;
    } catch (thrown) {
      output.error ??= errorOf(thrown);
    }
    if (checkingOps) {
      // Op checks of the run's graphs, and each backward() graph checked against all its leaves (opCheck*.ts).
      recordBackward = false;
      states.enabled = false;
      userValues.enabled = false;
      try {
        const tolerances = { atol: input.gradcheck?.atol, rtol: input.gradcheck?.rtol };
        const engineOps = checkOps([...opGraphs.keys()], { userForward: rerunForward(opGraphs, registered, functionOfSite), tolerances });
        output.opChecks = sortOps([...engineOps, ...learnerOpChecks(learnerGraphs, registered, functionOfSite, input.gradcheck ?? {})]);
        if (output.checks) output.checks.push(...modelChecks(opGraphs, output.roots, registered, input.gradcheck ?? {}, { functionOfSite }, new Set(output.checks.map((c) => c.name))));
      } catch (thrown) {
        output.error ??= errorOf(thrown);
      }
      restoreBindings?.();
    }
    if (watch.warnings.length > 0) output.warnings = [...watch.warnings];
    bindingLast.forEach((v, id) => {
      if (!v) return;
      const binding: WorkerBinding = { id, data: v.data, grad: v.grad, op: v.op, count: bindingCounts[id] };
      const node = nodeOfBinding[id];
      if (node) binding.node = node;
      output.bindings.push(binding);
    });
    output.durationMs = performance.now() - started;
    const cpu = process.cpuUsage(startedCpu);
    output.cpuMs = (cpu.user + cpu.system) / 1000;
    output.heapUsedMb = getHeapStatistics().used_heap_size / 2 ** 20;
    return output;
  }
}

/** `make()`'s result, made at the first call only. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/** Whether every node's data and grad in `graph` is finite (x − x is NaN for NaN and ±Infinity, 0 otherwise). */
function allFinite(graph: GraphSnapshot): boolean {
  let sum = 0;
  for (let i = 0; i < graph.nodeCount; i++) sum += graph.data[i] - graph.data[i] + (graph.grad[i] - graph.grad[i]);
  return sum === 0;
}

/** The numbers as they were at the root's backward(), where user code changed them since. */
function restoreBackwardState(graph: GraphSnapshot, order: readonly Value[], states: BackwardStates, epoch: number): void {
  if (states.savedCount < order.length) {
    // A training loop wrote its parameters (thousands) of a graph of tens of thousands of nodes:
    // number the nodes once and visit the saved values, not a Map lookup per node.
    const mark = numberPositions(order);
    states.forEachSaved(epoch, (v, state) => {
      const i = positionIn(v, mark);
      if (i >= 0) {
        graph.data[i] = state.data;
        graph.grad[i] = state.grad;
      }
    });
    return;
  }
  for (let i = 0; i < order.length; i++) {
    const state = states.stateAt(order[i], epoch);
    if (state) {
      graph.data[i] = state.data;
      graph.grad[i] = state.grad;
    }
  }
}

// Started while the process waits for its run.
const watchdog = startWatchdog();
openChildChannel().then(
  (opened) => {
    if (!opened) {
      process.stderr.write("GradLens: runnerWorker.js runs user code for GradLens's runner; it is not started by hand.\n");
      exitProcess(2);
    }
    main(opened.input, opened.channel, watchdog).catch((error: unknown) => {
      opened.channel.send({ type: "failure", message: describeThrown(error) }, () => exitProcess(1));
    });
  },
  () => exitProcess(1),
);
