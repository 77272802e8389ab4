/**
 * Lockstep for two benchmark processes (the runner's and plain node's): each step of each waits for a
 * go written to a FIFO, and reports its end on another, so their steps alternate one by one. Timing
 * one step of each right after the other cancels the drift of a shared machine (its slow seconds hit
 * both) that separate rounds could not. POSIX only (FIFOs).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The coordinator, a process of its own (it blocks on FIFOs while this process awaits the runner). */
const COORDINATOR = `
const fs = require("fs"), path = require("path");
const [dir, steps, roles] = [process.argv[1], Number(process.argv[2]), process.argv[3].split(",")];
const ends = roles.map((r) => ({ go: fs.openSync(path.join(dir, r + ".go"), "w"), done: fs.openSync(path.join(dir, r + ".done"), "r") }));
const b = Buffer.alloc(1);
for (let s = 0; s < steps; s++) {
  // Alternate who goes first, so neither always follows the other's step.
  const order = s % 2 ? [...ends].reverse() : ends;
  for (const e of order) { fs.writeSync(e.go, b); fs.readSync(e.done, b, 0, 1, null); }
}
`;

export interface Lockstep {
  /** The folder to pass as GRADLENS_BENCH_LOCKSTEP. */
  dir: string;
  dispose(): void;
}

/** FIFOs for `roles` and a coordinator that lets them run `steps` steps in turn. */
export function startLockstep(roles: string[], steps: number): Lockstep {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gradlens-lockstep-"));
  for (const role of roles) {
    for (const end of ["go", "done"]) {
      const made = spawnSync("mkfifo", [path.join(dir, `${role}.${end}`)]);
      if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
    }
  }
  const coordinator: ChildProcess = spawn(process.execPath, ["-e", COORDINATOR, dir, String(steps), roles.join(",")], { stdio: "inherit" });
  return {
    dir,
    dispose() {
      coordinator.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
