/**
 * Launcher scripts (pyenv shims, wrapper scripts) cost a shell start on every run. After a first run
 * reports the interpreter binary it ended up in (`sys.executable`), later runs in the same directory
 * start that binary directly. Only scripts are skipped this way, never real binaries or venv links.
 */
import { open } from "node:fs/promises";

const binaries = new Map<string, string>();

const keyOf = (interpreter: string, directory: string) => `${interpreter}\u0000${directory}`;

export function interpreterToStart(interpreter: string, directory: string): string {
  return binaries.get(keyOf(interpreter, directory)) ?? interpreter;
}

export async function rememberBinary(interpreter: string, directory: string, executable: string | undefined): Promise<void> {
  if (!executable || executable === interpreter || !(await isScript(interpreter))) return;
  binaries.set(keyOf(interpreter, directory), executable);
}

async function isScript(file: string): Promise<boolean> {
  try {
    const handle = await open(file, "r");
    try {
      const start = Buffer.alloc(2);
      await handle.read(start, 0, 2, 0);
      return start.toString("latin1") === "#!";
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}
