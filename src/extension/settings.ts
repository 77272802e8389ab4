/** Reads GradLens's settings (`contributes.configuration` in package.json) into runner options. */
import * as vscode from "vscode";
import type { RunOptions } from "../runner/index";
import { DEFAULT_MEMORY_LIMIT_MB, DEFAULT_NODE_LIMIT, DEFAULT_TIME_LIMIT_MS } from "../protocol/limits";

function section(scope?: vscode.Uri): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration("gradlens", scope);
}

/** The limits and gradient-check tolerances a run of the file at `scope` uses. */
export function runOptionsFromSettings(scope?: vscode.Uri): RunOptions {
  const config = section(scope);
  return {
    timeLimitMs: Math.max(1, config.get<number>("timeLimitSeconds", DEFAULT_TIME_LIMIT_MS / 1000)) * 1000,
    memoryLimitMb: config.get<number>("heapLimitMb", DEFAULT_MEMORY_LIMIT_MB),
    nodeLimit: config.get<number>("nodeLimit", DEFAULT_NODE_LIMIT),
    gradcheck: {
      eps: config.get<number>("gradcheck.eps", 1e-6),
      atol: config.get<number>("gradcheck.atol", 1e-5),
      rtol: config.get<number>("gradcheck.rtol", 1e-3),
      seed: config.get<number>("gradcheck.seed", 0),
    },
  };
}

export function runOnSaveEnabled(scope?: vscode.Uri): boolean {
  return section(scope).get<boolean>("runOnSave", true);
}

export function inlineValuesEnabled(scope?: vscode.Uri): boolean {
  return section(scope).get<boolean>("inlineValues.enabled", true);
}

/** The interpreter the user named, or "" to use the Python extension's choice. */
export function pythonPathSetting(scope?: vscode.Uri): string {
  return section(scope).get<string>("pythonPath", "").trim();
}
