/** Maps positions in the bundled code back to the user's own files, lines and columns. */
import * as path from "node:path";
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import type { BundleFrame } from "./protocol";
import type { SourceOffset } from "./instrument";
import { placeInFile } from "./snippetOffset";
import type { SourcePosition } from "../protocol/result";

export class BundlePositions {
  private readonly map: TraceMap;

  /** `snippet`: positions in that file are relative to the snippet, and shifted to its place. */
  constructor(mapJson: string, private readonly sourceRoot: string, private readonly snippet?: SourceOffset) {
    this.map = new TraceMap(mapJson);
  }

  /** The user's position of a 1-based bundle line and column, or undefined for generated code. */
  original(line: number, column: number): SourcePosition | undefined {
    const found = originalPositionFor(this.map, { line, column: Math.max(0, column - 1) });
    if (found.source === null || found.line === null || found.column === null) return undefined;
    const file = path.resolve(this.sourceRoot, found.source);
    if (this.snippet && file === path.resolve(this.snippet.file)) {
      return { file: this.snippet.file, ...placeInFile(this.snippet, found.line, found.column) };
    }
    return { file, line: found.line, column: found.column + 1 };
  }

  /** The user's frames only (library code in node_modules is left out), mapped, innermost first. */
  userFrames(frames: readonly BundleFrame[]): (SourcePosition & { functionName?: string })[] {
    const out: (SourcePosition & { functionName?: string })[] = [];
    for (const frame of frames) {
      const position = this.original(frame.line, frame.column);
      if (!position || position.file.includes(`${path.sep}node_modules${path.sep}`)) continue;
      out.push({ ...position, ...(frame.functionName ? { functionName: frame.functionName } : {}) });
    }
    return out;
  }
}

export function formatStack(frames: readonly (SourcePosition & { functionName?: string })[]): string {
  return frames.map((f) => `    at ${f.functionName ? `${f.functionName} (` : ""}${f.file}:${f.line}:${f.column}${f.functionName ? ")" : ""}`).join("\n");
}
