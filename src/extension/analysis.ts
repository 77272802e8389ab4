/**
 * The analysis bundle (dist/analysis.js: finding checkable functions needs a TypeScript parser),
 * loaded when the first lens is asked for. Not the runner: opening a `.grad.ts` file should not
 * parse the bundler, source maps and worker host that only a run needs.
 */
import * as path from "node:path";

type Analysis = typeof import("../analysis/index");

let analysis: Analysis | undefined;

export function loadAnalysis(): Analysis {
  // A runtime path on purpose: esbuild must not inline the parser into the extension bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  analysis ??= require(path.join(__dirname, "analysis.js")) as Analysis;
  return analysis;
}
