/**
 * Where the Python tracer (`python/gradlens_trace.py`) is. It ships beside dist/ in the extension
 * and beside src/ in the repository, so look upward from this module's directory.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";

export const TRACER_FILE = path.join("python", "gradlens_trace.py");

export function tracerScriptPath(start: string = __dirname): string | undefined {
  let directory = start;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(directory, TRACER_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return undefined;
}
