/** Finds where a file's CodeLenses go by reading its text (nothing runs): on the analysis thread, or on the caller's. */
import { findCheckableFunctions } from "../runner/staticAnalysis";
import { findModelFunctions } from "../runner/modelFunctions";
import { findCheckablePythonFunctions } from "../runner/python/checkableFunctions";
import { pythonBlocksOf } from "../runner/python/markdownBlocks";
import type { LensLanguage, LensSites } from "../protocol/lensSites";

export function lensSitesOf(text: string, file: string, language: LensLanguage): LensSites {
  if (language === "python") {
    return { functions: findCheckablePythonFunctions(text, file).map((f) => ({ name: f.name, line: f.range.line })), models: [] };
  }
  if (language === "markdown") {
    const functions = pythonBlocksOf(text).flatMap((block) =>
      findCheckablePythonFunctions(block.code, file, block.startLine).map((f) => ({ name: f.name, line: f.range.line, blockLine: block.startLine })),
    );
    return { functions, models: [] };
  }
  // Model checks are TypeScript's (Python's run through the function checks).
  return {
    functions: findCheckableFunctions(text, file).map((f) => ({ name: f.name, line: f.range.line })),
    models: findModelFunctions(text, file).map((f) => ({ name: f.name, line: f.range.line })),
  };
}
