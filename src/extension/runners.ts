/**
 * The runners, loaded on first use from their own bundles (dist/runner.js, dist/pythonRunner.js,
 * built by scripts/build.mjs). Keeping them out of dist/extension.js keeps activation cheap: the
 * extension host parses ~50 KB at start-up instead of the runners' parsers and source-map code.
 */
import * as path from "node:path";
import * as vscode from "vscode";

import type { Runner, RunLanguage } from "../runner/runner";

type TypeScriptRunner = typeof import("../runner/index");
type PythonRunner = typeof import("../runner/python/index");

let typescriptRunner: TypeScriptRunner | undefined;
let pythonRunner: PythonRunner | undefined;

/** The runner for a language: the one place the extension picks it (dist/runner.js holds both). */
export function runnerFor(language: RunLanguage): Runner {
  return loadRunner().runnerFor(language);
}

/** The TypeScript runner if a run has loaded it (disposing must not load it). */
export function loadedRunner(): TypeScriptRunner | undefined {
  return typescriptRunner;
}

export function loadRunner(): TypeScriptRunner {
  if (!typescriptRunner) {
    typescriptRunner = withTranslations(load<TypeScriptRunner>("runner.js"));
    // The extension host's thread is every extension's: the user's code is parsed and bundled on a thread of its own.
    typescriptRunner.useBundleThread(true);
  }
  return typescriptRunner;
}

export function loadPythonRunner(): PythonRunner {
  pythonRunner ??= withTranslations(load<PythonRunner>("pythonRunner.js"));
  return pythonRunner;
}

function load<T>(bundle: string): T {
  // A runtime path on purpose: esbuild must not inline the runner into the extension bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(__dirname, bundle)) as T;
}

/** The runners' own messages (errors, notes) in the display language: they get the extension's bundle. */
function withTranslations<T extends { useTranslations(bundle: Record<string, string> | undefined): void }>(runner: T): T {
  runner.useTranslations(vscode.l10n.bundle);
  return runner;
}
