/**
 * Where a file's CodeLenses go, as the analysis (src/analysis/lensSites.ts) finds them by reading
 * its text: the contract between the analysis thread and the extension host, checked when read.
 */
import { isArrayOf, isInt, isRecord, isString } from "./guards";

/** How the text is read: a Python file, a Markdown file's python blocks, or TypeScript/JavaScript. */
export type LensLanguage = "python" | "markdown" | "typescript";

/** A function's name and 1-based line; `blockLine`: the Markdown block to run for it. */
export interface LensSite {
  name: string;
  line: number;
  blockLine?: number;
}

export interface LensSites {
  /** Functions a gradient check can call with numbers ("Check gradient"). */
  functions: LensSite[];
  /** Functions that build a model's graph from no Value parameters ("Check gradient (all parameters)"). */
  models: LensSite[];
}

/** What the extension asks the analysis thread. */
export interface LensRequest {
  text: string;
  file: string;
  language: LensLanguage;
}

export function lensLanguageOf(languageId: string): LensLanguage {
  return languageId === "python" || languageId === "markdown" ? languageId : "typescript";
}

const isLensSite = (x: unknown): x is LensSite => isRecord(x) && isString(x.name) && isInt(x.line) && x.line >= 1 && (x.blockLine === undefined || isInt(x.blockLine));

export function isLensSites(x: unknown): x is LensSites {
  return isRecord(x) && isArrayOf(x.functions, isLensSite) && isArrayOf(x.models, isLensSite);
}
