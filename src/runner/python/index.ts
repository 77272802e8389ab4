/**
 * Runs the user's Python with the user's interpreter and reads back the graph their own Value class
 * built: a whole `.py` file, a selection, or a ```python block of a Markdown file. No vscode imports:
 * the extension finds the interpreter (setting or Python extension) and passes its path.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import * as l10n from "@vscode/l10n";
import type { RunOptions } from "../index";
import type { Runner } from "../runner";
import type { RunError, RunResult } from "../../protocol/result";
import { CHECKPOINT_INTERVAL_MS, resolveLimits } from "../../protocol/limits";
import { firstCheckpointGapMs } from "../training/workerTraining";
import { runTracerProcess } from "./childProcess";
import { resolvePythonPath } from "./interpreter";
import { buildRequest, type PythonRunInput } from "./request";
import { consoleOfRun, emptyPythonResult, fromCheckpoint, fromTracerOutput, fromUnfinishedRun, restateStop } from "./result";
import { prepareResultThread, readTracerResult } from "./readResult";
import { tracerScriptPath } from "./tracerScript";
import { interpreterToStart, rememberBinary } from "./launcherCache";
import { checkPython, type CheckRequestFields } from "./check";
import { PythonTrainingSession } from "../training/python";

export { resolvePythonPath, type ResolvedPython } from "./interpreter";
export type { PythonRunInput } from "./request";
export { useTranslations } from "../localization";
export { pythonBlocksOf, codeBlocksOf, isPythonFence, type MarkdownCodeBlock } from "./markdownBlocks";

/** `opChecks`: also check the local gradients of the ops in the run's graphs (a "Check ops" run). */
export type PythonRunOptions = RunOptions & { pythonPath?: string; opChecks?: boolean; /** "check" mode (check.ts) */ checkRequest?: CheckRequestFields };
export { checkPython } from "./check";
export { findCheckablePythonFunctions } from "./checkableFunctions";

/** Python through the runner interface: files, selections and code blocks, gradient checks (check.ts) and op checks. */
export const pythonRunner: Runner = {
  language: "python",
  runFile: (file, options) => runPython({ file }, options),
  runSnippet: (code, origin, options = {}) => runPython({ file: origin.file, code, origin, ...(options.document !== undefined ? { document: options.document } : {}) }, options),
  checkFile: (file, options = {}) => (options.opsOnly ? runPython({ file }, { ...options, opChecks: true }) : checkPython({ file }, options)),
};

/** Never rejects: every failure is a `RunResult` with an error at a source line where there is one. */
export async function runPython(input: PythonRunInput, options: PythonRunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const file = path.resolve(input.file);
  const elapsed = () => performance.now() - started;
  if (options.signal?.aborted) return emptyPythonResult(file, { kind: "cancelled", message: l10n.t("cancelled") }, elapsed());

  const interpreter = await resolvePythonPath(options.pythonPath);
  if (!interpreter) return emptyPythonResult(file, missingInterpreter(options.pythonPath), elapsed());
  const tracer = tracerScriptPath();
  if (!tracer) return emptyPythonResult(file, { kind: "internal", message: l10n.t("GradLens's Python tracer (python/gradlens_trace.py) is missing from the installation") }, elapsed());

  let directory: string | undefined;
  try {
    directory = await mkdtemp(path.join(os.tmpdir(), "gradlens-python-"));
    const resultPath = path.join(directory, "result");
    const checkpointPath = path.join(directory, "checkpoint");
    const dumpPath = path.join(directory, "where.txt");
    let request;
    try {
      const { timeLimitMs, memoryLimitMb } = resolveLimits(options);
      const limits = {
        timeLimitMs,
        heapLimitMb: memoryLimitMb,
        ...(options.nodeLimit !== undefined ? { nodeLimit: options.nodeLimit } : {}),
        ...(options.opChecks ? { opChecks: true } : {}),
        checkpointIntervalMs: firstCheckpointGapMs(CHECKPOINT_INTERVAL_MS, options.training !== undefined),
      };
      request = { ...(await buildRequest({ ...input, file }, limits, { resultPath, dumpPath, checkpointPath })), ...options.checkRequest };
    } catch {
      return emptyPythonResult(file, { kind: "runtime", message: l10n.t("cannot read {0}", file) }, elapsed());
    }
    const training = options.training ? new PythonTrainingSession(directory, options.training) : undefined;
    const requestPath = path.join(directory, "request.json");
    // The host's limit counts from the spawn just below (childRun.ts): the tracer's own stop, from then too.
    const deadlineMs = Date.now() + request.timeLimitMs;
    await writeFile(requestPath, JSON.stringify({ ...request, deadlineMs, ...(training ? { training: training.spec } : {}) }), "utf8");
    training?.start();

    // A snippet's file may not be on disk (yet): then start in the temporary folder instead.
    const cwd = existsSync(path.dirname(file)) ? path.dirname(file) : directory;
    prepareResultThread(); // started while Python runs, ready when it ends
    // Read from the moment the tracer exits, while what it may have started is looked for and ended.
    let exitedReading: ReturnType<typeof readTracerResult> | undefined;
    const run = await runTracerProcess(interpreterToStart(interpreter.path, cwd), ["-B", tracer, requestPath], {
      cwd,
      limits: { timeLimitMs: request.timeLimitMs, memoryLimitMb: request.heapLimitMb },
      signal: options.signal,
      onExit: () => (exitedReading = readTracerResult(resultPath)),
    });
    await training?.close();
    if (run.startError) return emptyPythonResult(file, failedToStart(interpreter.path, run.startError), elapsed());
    if (run.stopped !== "cancelled") {
      // Parsed and checked off this thread when big (readResult.ts): it was written by a process that ran user code.
      const reading = await (exitedReading ?? readTracerResult(resultPath));
      if (reading && "problem" in reading) {
        const unreadable = emptyPythonResult(file, { kind: "internal", message: l10n.t("GradLens could not read the Python tracer's result: {0}", reading.problem) }, elapsed(), consoleOfRun(run));
        if (training) unreadable.training = training.result(undefined, unreadable.sites);
        return unreadable;
      }
      if (reading) {
        const { output } = reading;
        await rememberBinary(interpreter.path, cwd, output.executable);
        const result = fromTracerOutput(file, output, elapsed());
        if (output.error?.stop) restateStop(result, request, output.error.stop);
        if (training) result.training = training.result(output.training, result.sites);
        return result;
      }
    }
    const dump = await readFile(dumpPath, "utf8").catch(() => "");
    const unfinished = fromUnfinishedRun(request, { ...run, dump }, interpreter.path, elapsed());
    if (run.stopped !== "cancelled") {
      // Stopped before it wrote its result: the last checkpoint still has the graphs of then.
      const checkpoint = await readTracerResult(checkpointPath);
      if (checkpoint && "output" in checkpoint) {
        const kept = fromCheckpoint(file, checkpoint.output, unfinished);
        restateStop(kept, request);
        if (training) kept.training = training.result(undefined, kept.sites);
        return kept;
      }
    }
    restateStop(unfinished, request);
    // A training run that was stopped hard (time limit, cancelled) keeps every step it streamed.
    if (training) unfinished.training = training.result(undefined, unfinished.sites);
    return unfinished;
  } catch (error) {
    return emptyPythonResult(file, { kind: "internal", message: l10n.t("GradLens failed: {0}", error instanceof Error ? error.message : String(error)) }, elapsed());
  } finally {
    if (directory) await rm(directory, { recursive: true, force: true }).catch(() => undefined);
  }
}

function howToSet(): string {
  return l10n.t("Install Python 3 (python.org), or set the gradlens.pythonPath setting to your interpreter, e.g. /usr/bin/python3 or C:\\Python312\\python.exe.");
}

function missingInterpreter(configured: string | undefined): RunError {
  const message = configured?.trim()
    ? l10n.t("GradLens could not find the Python interpreter \"{0}\" (from gradlens.pythonPath or the Python extension). {1}", configured, howToSet())
    : l10n.t("GradLens could not find Python: neither python3 nor python is on PATH. {0}", howToSet());
  return { kind: "interpreter", message };
}

function failedToStart(interpreter: string, error: NodeJS.ErrnoException): RunError {
  return { kind: "interpreter", message: l10n.t("GradLens could not start Python ({0}): {1}. {2}", interpreter, error.code ?? error.message, howToSet()) };
}
