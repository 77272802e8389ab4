/**
 * What the editor learns from a file without running it — the entry of dist/analysis.js, a bundle
 * of its own: CodeLens positions need a TypeScript parser, but not the runner (bundler, source
 * maps, worker host), so opening a `.grad.ts` file loads this small bundle instead of dist/runner.js.
 */
export { findCheckableFunctions, type CheckableFunction } from "../runner/staticAnalysis";
export { findModelFunctions, type ModelFunction } from "../runner/modelFunctions";
export { findCheckablePythonFunctions } from "../runner/python/checkableFunctions";
export { pythonBlocksOf } from "../runner/python/markdownBlocks";
export { lensSitesOf } from "./lensSites";
