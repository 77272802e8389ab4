/**
 * Support for the isolation tests: hostile programs written to a scratch folder, a heartbeat that
 * proves the caller's event loop kept turning, and checks that no process of a run is left.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RunResult } from "../../src/protocol/result";

export const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gradlens-isolation-"));

/** Writes `code` as a program of its own and returns its path. */
export function program(name: string, code: string): string {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, code);
  return file;
}

export { withHeartbeat } from "./heartbeat";

/** Lines the program printed as `pid N` (its own pid and those of what it started). */
export function printedPids(result: RunResult): number[] {
  return result.console.flatMap((line) => [...line.text.matchAll(/\bpid (\d+)/g)].map((m) => Number(m[1])));
}

/** A process that exists and is not a zombie (an orphan waiting for a reaper is gone for our purpose). */
export function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** Waits up to `ms` for every pid to be gone, then asserts it. */
export async function assertAllGone(pids: readonly number[], ms = 1500): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(pids.filter(isRunning), [], "processes of the run are still running");
}

/**
 * A temp folder of these tests' own, made the process's temp folder while `use()` is in force, so
 * the runs' temp folders can be counted without other programs' (the machine is shared).
 */
export const privateTemp = {
  folder: fs.mkdtempSync(path.join(os.tmpdir(), "gradlens-isolation-tmp-")),
  saved: undefined as string | undefined,
  use(): void {
    this.saved = process.env.TMPDIR;
    process.env.TMPDIR = this.folder;
  },
  restore(): void {
    if (this.saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = this.saved;
  },
};

/** Folders matching `prefix` in the tests' private temp folder (the Python runner's temp folders). */
export function tempFolders(prefix: string): string[] {
  return fs.readdirSync(privateTemp.folder).filter((name) => name.startsWith(prefix));
}
