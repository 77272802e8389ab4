/**
 * Which Python runs a `.py` file: the `gradlens.pythonPath` setting, else the interpreter selected in
 * the Python extension (when it is installed), else undefined: the Python runner then looks on PATH.
 */
import * as vscode from "vscode";
import { pythonPathSetting } from "./settings";

/** The part of the Python extension's exported API we use (its `environments` API). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
  };
}

export async function pythonInterpreterFor(resource: vscode.Uri): Promise<string | undefined> {
  const configured = pythonPathSetting(resource);
  if (configured) return configured;
  const extension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (extension) {
    try {
      const api = extension.isActive ? extension.exports : await extension.activate();
      const selected = api?.environments?.getActiveEnvironmentPath(resource)?.path;
      if (selected) return selected;
    } catch {
      // The Python extension failing must not stop a run: fall back to PATH.
    }
  }
  return undefined;
}
