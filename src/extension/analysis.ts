/**
 * The analysis bundle (dist/analysis.js: finding checkable functions needs a TypeScript parser),
 * loaded when the first lens is asked for. Not the runner: opening a `.grad.ts` file should not
 * parse the bundler, source maps and worker host that only a run needs. Lens sites are found on
 * the analysis thread (dist/analysisThread.js) when it can answer, here otherwise.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { ThreadKeeper } from "../runner/process/serviceThread";
import { isLensSites, type LensLanguage, type LensRequest, type LensSites } from "../protocol/lensSites";

type Analysis = typeof import("../analysis/index");

let analysis: Analysis | undefined;

export function loadAnalysis(): Analysis {
  // A runtime path on purpose: esbuild must not inline the parser into the extension bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  analysis ??= require(path.join(__dirname, "analysis.js")) as Analysis;
  return analysis;
}

/** An analysis thread with nothing to do for this long is ended (it holds a parser). */
const ANALYSIS_THREAD_IDLE_MS = 120_000;

/** dist/analysisThread.js beside the extension bundle (or a test build's, env override). */
export function analysisThreadPath(): string | undefined {
  const candidates = [process.env.GRADLENS_ANALYSIS_THREAD, path.join(__dirname, "analysisThread.js")];
  return candidates.find((c): c is string => typeof c === "string" && c !== "" && existsSync(c));
}

const threads = new ThreadKeeper(analysisThreadPath, ANALYSIS_THREAD_IDLE_MS);

/** How many analysis threads this process has started (one serves many refreshes). */
export function analysisThreadsStarted(): number {
  return threads.started;
}

/**
 * Where the lenses of `text` go, found on the analysis thread; on this thread when there is no
 * thread script, the thread failed, or its answer is not well-formed. `onThread` says which.
 */
export async function lensSitesOffThread(text: string, file: string, language: LensLanguage): Promise<{ sites: LensSites; onThread: boolean }> {
  const answer = await threads.ask({ text, file, language } satisfies LensRequest);
  if (isLensSites(answer)) return { sites: answer, onThread: true };
  return { sites: loadAnalysis().lensSitesOf(text, file, language), onThread: false };
}
