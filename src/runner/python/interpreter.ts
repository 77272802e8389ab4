/**
 * Which Python runs the user's code: the `gradlens.pythonPath` setting, else the interpreter the
 * Python extension selected, else `python3` (or `python`) on PATH. No vscode here: the extension
 * looks the setting and the Python extension up, and passes what it found.
 */
import { access, stat } from "node:fs/promises";
import { constants } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ResolvedPython {
  path: string;
  source: "setting" | "python-extension" | "PATH";
}

export async function resolvePythonPath(configured: string | undefined, pythonExtensionPath?: string): Promise<ResolvedPython | undefined> {
  const setting = configured?.trim();
  if (setting) {
    // A setting that points nowhere is reported, not silently replaced by another Python.
    const found = await findExecutable(setting);
    return found ? { path: found, source: "setting" } : undefined;
  }
  const selected = pythonExtensionPath?.trim();
  if (selected) {
    const found = await findExecutable(selected);
    if (found) return { path: found, source: "python-extension" };
  }
  const names = process.platform === "win32" ? ["python", "py", "python3"] : ["python3", "python"];
  for (const name of names) {
    const found = await findOnPath(name);
    if (found) return { path: found, source: "PATH" };
  }
  return undefined;
}

/** A path (absolute, relative or `~/…`) to an executable file, or a command name looked up on PATH. */
export async function findExecutable(command: string): Promise<string | undefined> {
  const expanded = command.startsWith("~") ? path.join(os.homedir(), command.slice(1)) : command;
  if (expanded.includes("/") || expanded.includes("\\")) {
    const absolute = path.resolve(expanded);
    return (await isExecutableFile(absolute)) ? absolute : undefined;
  }
  return findOnPath(expanded);
}

async function findOnPath(name: string): Promise<string | undefined> {
  const directories = (process.env.PATH ?? "").split(path.delimiter).filter((d) => d !== "");
  const extensions = process.platform === "win32" ? ["", ...(process.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";")] : [""];
  for (const directory of directories) {
    for (const extension of extensions) {
      const candidate = path.join(directory, name + extension);
      if (await isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, process.platform === "win32" ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
