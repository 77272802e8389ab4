/**
 * The runner's public API: run a `.grad.ts` file or a snippet in a child process of its own and
 * get back a `RunResult` (graphs, source sites, bindings, console, errors, gradient checks) — also
 * when the run stopped early: then with what it recorded. No vscode imports: the CLI and the
 * extension both use this module. Never throws.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import * as l10n from "@vscode/l10n";
import type { Bundle, BundleRequest } from "./bundle";
import { bundleOffThread } from "./bundleOffThread";
import { prepareWorker, releaseWorker, runInWorker } from "./workerHost";
import { unpackLabels } from "./labelTransfer";
import { BundlePositions, formatStack } from "./sourcePositions";
import { findCheckableFunctionsDetailed, topLevelNames } from "./staticAnalysis";
import { placeOps, positioned } from "./opCheckPositions";
import { placeMethods } from "./opCheckDefinitions";
import { findModelFunctions } from "./modelFunctions";
import { fileDeclaresOwnValue } from "./userValueClasses";
import type { SourceOffset } from "./instrument";
import type { CheckRequest, WorkerConsoleLine, WorkerError, WorkerOutput } from "./protocol";
import type { BindingValue, ConsoleLine, FunctionCheckResult, OpCheckResult, RunError, RunResult, SourcePosition, SourceRange } from "../protocol/result";
import { trainingInput, trainingListener, trainingResult, watchStopFlag } from "./training/fromWorker";
import { emptyResult as emptyRunResult } from "../protocol/emptyResult";
import { DEFAULT_TIME_LIMIT_MS, DEFAULT_MEMORY_LIMIT_MB, resolveLimits, type RunLimits } from "../protocol/limits";
import { describeStop } from "./stopMessages";
import { languageOfFile, type Runner, type RunnerOptions, type RunLanguage, type SnippetOrigin } from "./runner";
import { pythonRunner } from "./python";

export { findCheckableFunctions, findCodeBlockAt } from "./staticAnalysis";
export { findModelFunctions } from "./modelFunctions";
export type { CheckableFunction } from "./staticAnalysis";
export { useTranslations } from "./localization";
export { keepChildWarm } from "./workerHost";
export { useBundleThread } from "./bundleOffThread";

export interface RunOptions extends RunnerOptions {
  /** Stop the run after this many milliseconds (default 10000). */
  timeLimitMs?: number;
  /** The run's memory limit in MB, measured on its process (default 1024); `heapLimitMb` is its old name. */
  memoryLimitMb?: number;
}
export type { SnippetOrigin, Runner, RunLanguage } from "./runner";
export type { TrainingRunOptions } from "./training/options";
export { languageOfFile } from "./runner";

export { DEFAULT_TIME_LIMIT_MS, DEFAULT_MEMORY_LIMIT_MB };
/** @deprecated the memory limit covers more than the heap: DEFAULT_MEMORY_LIMIT_MB. */
export const DEFAULT_HEAP_LIMIT_MB = DEFAULT_MEMORY_LIMIT_MB;

/** What a snippet may use without importing it. */
export const SNIPPET_HELPERS = ["Value", "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "relu", "tanh", "sigmoid", "sum", "gradcheck", "zeroGrad", "toValue", "mulberry32"];

/** Runs a `.grad.ts` (or .ts/.js) file and its relative imports. */
export function runFile(file: string, options: RunOptions = {}): Promise<RunResult> {
  const absolute = path.resolve(file);
  return guarded(absolute, () => runBundle({ entry: { file: absolute }, sourceTracking: options.sourceTracking ?? true }, absolute, options));
}

/** Runs statements selected from any file, with `Value` and the op helpers in scope; `opChecks`: and checks its ops ("Check ops"). */
export function runSnippet(code: string, origin: SnippetOrigin, options: RunOptions & { opChecks?: boolean } = {}): Promise<RunResult> {
  const file = path.resolve(origin.file);
  const offset: SourceOffset = { file, line: origin.line, column: origin.column };
  const declared = topLevelNames(code);
  const injected = SNIPPET_HELPERS.filter((name) => !declared.has(name));
  const extras: RunExtras = { injected, snippet: offset, snippetCode: code, ...(options.opChecks ? { opChecks: true } : {}) };
  return guarded(file, () => runBundle({ entry: { code, origin: offset }, sourceTracking: options.sourceTracking ?? true }, file, options, extras));
}

/**
 * Runs the file, then a gradient check of every checkable function (or only `functionName`, or none
 * with `opsOnly`), and an op check of the run's own graphs (see opCheck.ts).
 */
export function checkFile(file: string, options: RunOptions & { functionName?: string; opsOnly?: boolean } = {}): Promise<RunResult> {
  const absolute = path.resolve(file);
  return guarded(absolute, async () => {
    const source = await readFile(absolute, "utf8");
    const all = findCheckableFunctionsDetailed(source, absolute);
    const functions = all.filter((f) => options.functionName === undefined || f.name === options.functionName);
    const request: BundleRequest = {
      entry: { file: absolute },
      // Checks need the functions handed over, so tracking stays on whatever the option says.
      sourceTracking: true,
      // All of them, not just the checked ones: a user-defined op is re-run through its function. A file
      // with its own Value class hands it over too: checks build their inputs with it (userValues.ts).
      registerFunctions: [...all.map((f) => ({ name: f.name, hoisted: f.hoisted })), ...(functions.length > 0 && fileDeclaresOwnValue(source) ? [{ name: "Value", hoisted: false }] : [])],
    };
    const checked = options.opsOnly ? [] : functions;
    const checks: CheckRequest[] = checked.map((f) => ({ name: f.name, params: f.params, ...(f.point ? { point: f.point } : {}) }));
    const result = await runBundle(request, absolute, options, { checks, opChecks: true });
    const byName = new Map<string, { range: SourceRange }>([...findModelFunctions(source, absolute), ...functions].map((f) => [f.name, f]));
    // Model checks (all leaves of a backward() graph) come for every root; keep the ones asked for.
    const wanted = (c: FunctionCheckResult) => !options.opsOnly && (options.functionName === undefined || c.name === options.functionName);
    result.checks = (result.checks ?? []).filter(wanted).map((c) => ({ ...c, range: byName.get(c.name)?.range ?? c.range }));
    return result;
  });
}

/** The TypeScript/JavaScript runner (a child process of Node per run). */
export const typescriptRunner: Runner = { language: "typescript", runFile, runSnippet, checkFile };

/** The one place that picks a runner. */
export function runnerFor(language: RunLanguage): Runner {
  return language === "python" ? pythonRunner : typescriptRunner;
}

/** Runs a file in the language its name says (`.py`: Python; else TypeScript/JavaScript). */
export function run(file: string, options: RunnerOptions = {}): Promise<RunResult> {
  return runnerFor(languageOfFile(file)).runFile(file, options);
}

export { runPython } from "./python";

/** Any failure inside GradLens itself still comes back as a result, never as a rejection. */
async function guarded(file: string, body: () => Promise<RunResult>): Promise<RunResult> {
  const started = performance.now();
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const kind = /ENOENT/.test(message) ? "runtime" : "internal";
    return emptyResult(file, { kind, message: kind === "runtime" ? l10n.t("cannot read {0}", file) : l10n.t("GradLens failed: {0}", message) }, performance.now() - started);
  }
}

function emptyResult(file: string, error: RunError | undefined, durationMs: number): RunResult {
  return emptyRunResult("typescript", file, error, durationMs);
}

interface RunExtras {
  injected?: string[];
  snippet?: SourceOffset;
  snippetCode?: string;
  checks?: CheckRequest[];
  opChecks?: boolean;
}

async function runBundle(request: BundleRequest, file: string, options: RunOptions, extras: RunExtras = {}): Promise<RunResult> {
  const started = performance.now();
  const limits = resolveLimits(options);
  // The child starts while the code is bundled (or was started ahead of the run: keepChildWarm).
  const prepared = prepareWorker(limits);
  const { outcome: bundled, thread: bundledOffThread } = await bundleOffThread(request).catch((error: unknown) => {
    releaseWorker(prepared);
    throw error;
  });
  if (!bundled.ok) {
    releaseWorker(prepared);
    return emptyResult(file, bundled.error, performance.now() - started);
  }
  const { bundle } = bundled;
  const bundleMs = performance.now() - started;
  const training = options.training ? trainingInput(options.training, bundle.registry.sites, file) : undefined;
  const stopWatch = options.training && training ? watchStopFlag(options.training, training) : undefined;
  const outcome = await runInWorker(
    {
      code: bundle.code,
      entryFile: file,
      injectedHelpers: extras.injected ?? [],
      bindingNames: bundle.registry.bindings.map((b) => b.name),
      nodeLimit: options.nodeLimit,
      checks: extras.checks,
      gradcheck: options.gradcheck,
      ...(extras.checks || extras.opChecks ? { siteFunctions: bundle.registry.sites.map((site) => site.functionName ?? null) } : {}),
      ...(extras.opChecks ? { opChecks: true } : {}),
      ...(training ? { training } : {}),
    },
    { ...limits, signal: options.signal, onTraining: options.training ? trainingListener(options.training, bundle.registry.sites) : undefined },
    prepared,
  ).finally(() => stopWatch?.());
  const sites = bundle.registry.sites;
  const sitePosition = (id: number): SourcePosition | undefined => {
    const site = id > 0 ? sites[id] : undefined;
    return site ? { file: site.file, line: site.line, column: site.column } : undefined;
  };
  const positions = new BundlePositions(bundle.map, bundle.sourceRoot, extras.snippet);
  const toRunError = (e: WorkerError): RunError => mapError(e, positions, sitePosition, limits);
  // A failing op of a learner's own class: also where its method is written (opCheckDefinitions.ts).
  const snippetSource = extras.snippet && extras.snippetCode !== undefined ? { offset: extras.snippet, code: extras.snippetCode } : undefined;
  const placeAll = (ops: OpCheckResult[]) => placeMethods(placeOps(ops, sitePosition), bundle, snippetSource);
  const result = emptyResult(file, undefined, 0);
  result.sites = sites;
  const notes: ConsoleLine[] = bundle.untracked.map((u) => ({ stream: "stderr" as const, text: l10n.t("GradLens: source tracking is off for {0} ({1})", u.file, u.reason) }));
  const printed = [...notes, ...consoleOf(outcome.console, sitePosition)];
  if (outcome.droppedChars > 0) printed.push({ stream: "stderr", text: l10n.t("… {0} more characters of output were not kept", outcome.droppedChars.toLocaleString("en-US")) });
  if (outcome.foreignMessages > 0) printed.push({ stream: "stderr", text: l10n.t("GradLens: ignored {0} message(s) on its channel that were not its own", outcome.foreignMessages) });
  result.console = printed;

  const output = outcome.output;
  if (output) {
    result.roots = output.roots.map((r) => {
      const { siteId, labels, ...root } = r;
      root.graph.labels = unpackLabels(labels);
      const position = sitePosition(siteId);
      return position ? { ...root, position } : root;
    });
    result.bindings = bindingsOf(output, bundle);
    if (output.nonFinite) {
      const { siteId, ...report } = output.nonFinite;
      const position = sitePosition(siteId);
      result.nonFinite = position ? { ...report, position } : report;
    }
    if (output.training) result.training = trainingResult(output.training, sitePosition);
    if (output.checks) {
      result.checks = output.checks.map((c): FunctionCheckResult => {
        const { error, ...check } = c;
        const out: FunctionCheckResult = { ...check, range: { file, line: 1, column: 1, endLine: 1, endColumn: 1 } };
        if (out.ops) out.ops = placeAll(out.ops);
        if (error) out.error = toRunError(error);
        return out;
      });
    }
    if (output.opChecks) result.opChecks = placeAll(output.opChecks);
    if (output.warnings) result.warnings = output.warnings.map(({ siteId, ...w }) => ({ ...w, ...positioned(sitePosition(siteId)) }));
  }
  // The child's own account of its end (it knows the line it was stopped at), else the host's.
  const error = output?.error && !outcome.fromCheckpoint ? toRunError(output.error) : outcome.error ? finishHostError(outcome.error, limits, result) : undefined;
  if (error) {
    result.ok = false;
    result.error = error;
  }
  result.stats = {
    durationMs: performance.now() - started,
    nodeCount: result.roots.reduce((n, r) => n + r.graph.nodeCount, 0),
    bundleMs,
    bundledOffThread,
    ...(outcome.startupMs !== undefined ? { startupMs: outcome.startupMs } : {}),
    ...(output ? { executeMs: output.durationMs, workerHeapMb: output.heapUsedMb } : {}),
    ...(output?.cpuMs !== undefined ? { executeCpuMs: output.cpuMs } : {}),
  };
  return result;
}

/** A stop the host saw (no word from the child): its message, knowing what was kept. */
function finishHostError(error: RunError, limits: RunLimits, result: RunResult): RunError {
  if (error.kind !== "timeout" && error.kind !== "memory") return error;
  return { ...error, message: describeStop({ kind: error.kind, limits, keptGraph: result.roots.length > 0, printed: result.console.length > 0 }) };
}

function mapError(error: WorkerError, positions: BundlePositions, sitePosition: (id: number) => SourcePosition | undefined, limits: RunLimits): RunError {
  const frames = positions.userFrames(error.frames);
  const position = frames[0] ? { file: frames[0].file, line: frames[0].line, column: frames[0].column } : sitePosition(error.siteId);
  const stop = error.kind === "timeout" || error.kind === "memory" || error.kind === "cancelled";
  const message = stop ? describeStop({ kind: error.kind as "timeout" | "memory" | "cancelled", limits, line: position?.line, functions: frames.map((f) => f.functionName), quietMs: error.quietMs }) : error.message;
  const out: RunError = { kind: error.kind, message };
  if (position) out.position = position;
  if (frames.length > 0) out.stack = formatStack(frames);
  return out;
}

function bindingsOf(output: WorkerOutput, bundle: Bundle): BindingValue[] {
  return output.bindings.map((b) => {
    const declaration = bundle.registry.bindings[b.id];
    const value: BindingValue = { name: declaration.name, range: declaration.range, data: b.data, grad: b.grad, op: b.op, count: b.count };
    if (b.node) value.node = b.node;
    return value;
  });
}

function consoleOf(lines: readonly WorkerConsoleLine[], sitePosition: (id: number) => SourcePosition | undefined): ConsoleLine[] {
  return lines.map((line) => {
    const position = sitePosition(line.siteId);
    return position ? { stream: line.stream, text: line.text, position } : { stream: line.stream, text: line.text };
  });
}
