/**
 * `gradlens`: the runner on the command line (the same runner as the extension).
 *   gradlens graph FILE [--json | --dot]    gradlens check FILE [--json]
 */
// First: it starts the run's child process before the rest of the CLI is loaded and set up (earlyChild.ts).
import "./earlyChild";
import * as path from "node:path";
import { runCliTarget } from "./targets";
import type { RunError, RunResult } from "../protocol/result";
import { limitsOf, parseArgs, UsageError, USAGE, type CliArgs } from "./args";
import { graphDot, graphJson, graphTable } from "./graphOutput";
import { checkJson, checkTable, checkPassed } from "./checkOutput";
import { showProgress } from "./progress";
import packageJson from "../../package.json";
import { trainCommand } from "./train";

export const EXIT = { ok: 0, checkFailed: 1, cannotRun: 2 } as const;

export async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === "train") return trainCommand(argv.slice(1));
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`gradlens: ${error.message}\n\n${USAGE}\n`);
    return EXIT.cannotRun;
  }
  if (args.command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (args.command === "version") {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const file = path.resolve(args.file as string);
  const options = {
    ...limitsOf(args),
    ...(args.seed !== undefined ? { gradcheck: { seed: args.seed } } : {}),
    ...(args.functionName !== undefined ? { functionName: args.functionName } : {}),
  };
  const stopProgress = showProgress(`running ${path.basename(file)}`);
  const result = await runCliTarget(args.command, file, args.line, options).finally(stopProgress);
  printConsole(result);
  return args.command === "check" ? reportCheck(result, args) : reportGraph(result, args);
}

function reportGraph(result: RunResult, args: CliArgs): number {
  // A run that stopped early still prints the graph it kept (then exits 2 for the error).
  if (result.error && result.roots.length === 0) return cannotRun(result.error, result.file);
  if (result.roots.length === 0) return cannotRun({ kind: "runtime", message: "the file made no Value to show" }, result.file);
  const index = args.root !== undefined ? args.root - 1 : result.roots.length - 1;
  const root = result.roots[index];
  if (!root) return cannotRun(result.error ?? { kind: "runtime", message: `there is no root #${args.root}: the file has ${result.roots.length}` }, result.file);
  if (args.format === "json") process.stdout.write(`${JSON.stringify(graphJson(root, result.sites))}\n`);
  else if (args.format === "dot") process.stdout.write(`${graphDot(root)}\n`);
  else {
    if (result.roots.length > 1) process.stdout.write(`${result.roots.length} roots: ${result.roots.map((r, i) => `#${i + 1} ${r.name}`).join(", ")} (showing #${index + 1}; pick with --root N)\n`);
    process.stdout.write(`${graphTable(root, result.sites)}\n`);
  }
  if (result.nonFinite) {
    const p = result.nonFinite.position;
    process.stderr.write(`${p ? `${p.file}:${p.line}:${p.column}: ` : ""}warning: ${result.nonFinite.message}\n`);
  }
  return result.error ? cannotRun(result.error, result.file) : EXIT.ok;
}

function reportCheck(result: RunResult, args: CliArgs): number {
  const checks = result.checks ?? [];
  if (result.error) return cannotRun(result.error, result.file);
  if (args.format === "json") process.stdout.write(`${JSON.stringify(checkJson(checks))}\n`);
  else process.stdout.write(`${checkTable(checks)}\n`);
  return checks.every(checkPassed) ? EXIT.ok : EXIT.checkFailed;
}

/** `file:line:col: message` on stderr, as compilers print errors (editors and CI make them links). */
function cannotRun(error: RunError, file: string): number {
  const p = error.position;
  process.stderr.write(`${p ? `${p.file}:${p.line}:${p.column}` : file}: ${error.kind === "runtime" || error.kind === "syntax" ? "error" : error.kind}: ${error.message}\n`);
  if (error.stack) process.stderr.write(`${error.stack}\n`);
  return EXIT.cannotRun;
}

/** What the user's code printed goes to stderr, so stdout stays clean JSON for pipes. */
function printConsole(result: RunResult): void {
  for (const line of result.console) process.stderr.write(`${line.text}\n`);
}

function version(): string {
  return packageJson.version;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`gradlens: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = EXIT.cannotRun;
    },
  );
}
