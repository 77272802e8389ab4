// Bundles every part of GradLens with esbuild. A missing entry is an error: a renamed or deleted
// file must not silently drop a bundle the extension loads at run time.
import * as esbuild from "esbuild";
import { existsSync, mkdirSync } from "node:fs";
import { writeTypeScriptSupport, PLUGIN_NAME } from "./typescript-support.mjs";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");

/** @type {import('esbuild').BuildOptions[]} */
const targets = [
  // The extension host: CommonJS on Node, `vscode` provided by the host.
  { entryPoints: ["src/extension/extension.ts"], outfile: "dist/extension.js", platform: "node", format: "cjs", external: ["vscode", "esbuild"] },
  // The runners as their own bundles, which the extension loads on first use: activation does not parse them.
  { entryPoints: ["src/runner/index.ts"], outfile: "dist/runner.js", platform: "node", format: "cjs", external: ["esbuild"] },
  // What CodeLens needs from a file without running it (a parser, not the runner): loaded when the first lens is asked for.
  { entryPoints: ["src/analysis/index.ts"], outfile: "dist/analysis.js", platform: "node", format: "cjs" },
  // The thread that finds lens sites off the extension host's thread (src/extension/analysis.ts starts it).
  { entryPoints: ["src/analysis/thread.ts"], outfile: "dist/analysisThread.js", platform: "node", format: "cjs" },
  { entryPoints: ["src/runner/python/index.ts"], outfile: "dist/pythonRunner.js", platform: "node", format: "cjs", external: ["esbuild"] },
  // The thread that reads big Python results off the caller's thread (next to runner.js and pythonRunner.js, which start it).
  { entryPoints: ["src/runner/python/resultThread.ts"], outfile: "dist/pythonResultThread.js", platform: "node", format: "cjs" },
  // The runner's worker thread, where user code runs.
  { entryPoints: ["src/runner/worker.ts"], outfile: "dist/runnerWorker.js", platform: "node", format: "cjs", external: ["esbuild"] },
  // The thread that bundles and instruments the user's code off the extension host's thread (src/runner/bundleOffThread.ts).
  { entryPoints: ["src/runner/bundleThread.ts"], outfile: "dist/runnerBundleThread.js", platform: "node", format: "cjs", external: ["esbuild"] },
  // The command-line tool.
  { entryPoints: ["src/cli/main.ts"], outfile: "dist/cli.js", platform: "node", format: "cjs", external: ["esbuild"], banner: { js: "#!/usr/bin/env node" } },
  // The graph view, in the webview's browser context.
  { entryPoints: ["src/webview/main.ts"], outfile: "dist/webview.js", platform: "browser", format: "iife" },
  // The training view (its own panel): dist/webviewTraining.js and, from the CSS it imports, dist/webviewTraining.css.
  { entryPoints: ["src/webview/training/main.ts"], outfile: "dist/webviewTraining.js", platform: "browser", format: "iife" },
];

mkdirSync("dist", { recursive: true });
const common = { bundle: true, sourcemap: true, minify: production, target: "es2022", logLevel: "warning" };
// `--only=webview` builds just the bundles whose output name contains "webview" (the webview tests use it).
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const missing = targets.flatMap((t) => t.entryPoints.filter((e) => !existsSync(e)).map((e) => `${e} (for ${t.outfile})`));
if (missing.length > 0) {
  console.error(`build: missing entry point${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`);
  process.exit(1);
}
const selected = targets.filter((t) => !only || t.outfile.includes(only));
if (watch) {
  for (const t of selected) await (await esbuild.context({ ...common, ...t })).watch();
} else {
  await Promise.all(selected.map((t) => esbuild.build({ ...common, ...t })));
  console.log(`built ${selected.map((t) => t.outfile).join(", ")}`);
  if (!only) {
    // Editor support for `import { Value } from "gradlens"` in .grad.ts files (see typescript-support.mjs).
    await writeTypeScriptSupport({ minify: production });
    console.log(`built dist/gradlens.d.ts, node_modules/${PLUGIN_NAME}`);
  }
}
