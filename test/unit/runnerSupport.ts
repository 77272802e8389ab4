/**
 * Test support for the runner: the runner's worker must be a real bundle (as in the extension),
 * so tests build src/runner/worker.ts (and the CLI) with esbuild into out/, like scripts/build.mjs does.
 */
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { buildSync, type BuildOptions } from "esbuild";

export const repoRoot = path.resolve(__dirname, "..", "..");
export const fixture = (...parts: string[]): string => path.join(repoRoot, "test", "fixtures", "runner", ...parts);

const common: BuildOptions = { bundle: true, platform: "node", format: "cjs", target: "es2022", sourcemap: true, external: ["esbuild"], logLevel: "error" };

/** Builds the worker once per test process and points the runner at it. */
export function useBuiltWorker(): void {
  const outfile = path.join(repoRoot, "out", "test-runner", "runnerWorker.js");
  if (process.env.GRADLENS_RUNNER_WORKER !== outfile) {
    buildSync({ ...common, entryPoints: [path.join(repoRoot, "src", "runner", "worker.ts")], outfile });
    process.env.GRADLENS_RUNNER_WORKER = outfile;
  }
}

/** Builds the CLI and its worker side by side, as `npm run build` lays them out in dist/. */
export function buildCli(): string {
  const dir = path.join(repoRoot, "out", "test-cli");
  buildSync({ ...common, entryPoints: [path.join(repoRoot, "src", "runner", "worker.ts")], outfile: path.join(dir, "runnerWorker.js") });
  buildSync({ ...common, entryPoints: [path.join(repoRoot, "src", "cli", "main.ts")], outfile: path.join(dir, "cli.js"), banner: { js: "#!/usr/bin/env node" } });
  return path.join(dir, "cli.js");
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user's shell does (output up to 256 MB: training tables are long). */
export function spawnCli(cli: string, args: string[]): CliRun {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
