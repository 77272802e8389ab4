/**
 * Ending every process of a run: the child's process group (what it started without `detached`),
 * and on Linux also any process that carries the run's mark in its environment (started detached,
 * in a session of its own, or orphaned since). Best effort everywhere, never a throw.
 */
import { readdirSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";

export const POSIX = process.platform !== "win32";
const LINUX = process.platform === "linux";

/** The environment variable that marks the processes of one run (inherited by what they start). */
export const RUN_MARK_VARIABLE = "GRADLENS_RUN";

export function newRunMark(): string {
  return randomBytes(9).toString("base64url");
}

/** Kills the group led by `pid` and every process marked with `mark`. */
export function killRunProcesses(pid: number | undefined, mark: string): void {
  if (pid !== undefined) killQuietly(POSIX ? -pid : pid);
  for (const marked of processesMarked(mark)) {
    killQuietly(-marked);
    killQuietly(marked);
  }
}

/**
 * The same, without holding up the caller's event loop: reading every process's environment takes
 * 10–50 ms on a busy machine, so at a run's normal end it is read a few files at a time.
 */
export async function killRunProcessesSoon(pid: number | undefined, mark: string): Promise<void> {
  if (pid !== undefined) killQuietly(POSIX ? -pid : pid);
  for (const marked of await processesMarkedSoon(mark)) {
    killQuietly(-marked);
    killQuietly(marked);
  }
}

async function processesMarkedSoon(mark: string): Promise<number[]> {
  if (!LINUX) return [];
  const needle = Buffer.from(`${RUN_MARK_VARIABLE}=${mark}\0`);
  const entries = await readdir("/proc").catch(() => [] as string[]);
  const pids = entries.map(Number).filter((pid) => Number.isInteger(pid) && pid !== process.pid);
  const found: number[] = [];
  const BATCH = 16;
  for (let i = 0; i < pids.length; i += BATCH) {
    await Promise.all(
      pids.slice(i, i + BATCH).map((pid) =>
        readFile(`/proc/${pid}/environ`).then(
          (environ) => {
            if (environ.includes(needle)) found.push(pid);
          },
          () => undefined, // gone already, or not ours to read
        ),
      ),
    );
  }
  return found;
}

/** Processes (other than this one) whose environment has the run's mark. Linux only; elsewhere none. */
export function processesMarked(mark: string): number[] {
  if (!LINUX) return [];
  const needle = Buffer.from(`${RUN_MARK_VARIABLE}=${mark}\0`);
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`).includes(needle)) found.push(pid);
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return found;
}

/** Resident memory of a process in MB, or undefined where it cannot be read (not Linux). */
export function residentMemoryMb(pid: number): number | undefined {
  if (!LINUX) return undefined;
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
    return Number.isFinite(pages) ? (pages * 4096) / 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
