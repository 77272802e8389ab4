// `npm run test:integration`: the extension's integration tests inside a real VS Code, offline.
//
// For each VS Code build that scripts/install-vscode.mjs installed (code-server's bundled VS Code
// server), this starts the server on a free loopback port with throw-away data folders and a fresh
// copy of test/fixtures/workspace, and opens its web workbench in headless Chromium (playwright-core)
// with the extension under development and the compiled test module in the URL `payload`. The
// workbench calls `codeAutomationExit(code)` when the test module's `run()` settles.
//
// Runs: every build in a trusted workspace (all `*.test.js` except `*.restricted.test.js`), and the
// newest build once more in Restricted Mode (only `*.restricted.test.js`), and once with Korean as the
// display language (only `l10n.test.js`, then checks of the workbench UI: scripts/korean-display.mjs).
// Each run's mocha totals
// (GRADLENS_SUMMARY, written inside the extension host) are added up into this suite's summary.
//
// Usage: node scripts/run-integration.mjs [--build newest|oldest] [--mode trusted|restricted|korean] [--grep text]
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { builds, isInstalled } from "./install-vscode.mjs";
import { chromiumArgs, chromiumPath, startServer } from "./vscode-server.mjs";
import { checkKoreanWorkbench, installKoreanLanguagePack, koreanServerArgs } from "./korean-display.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// One folder per harness process, so two people (or two helpers) running the suite at once do not
// delete each other's compiled tests.
const outDir = join(root, "out", "test", `integration-${process.pid}`);
/** A whole run (start-up + every test) must finish within this, or it counts as failed. */
const runTimeoutMs = Number(process.env.GRADLENS_INTEGRATION_TIMEOUT_MS ?? 360_000);

function argument(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function log(message) {
  console.log(`[integration] ${message}`);
}

/** Builds the extension bundles, then compiles every test file to out/test/integration. */
async function compile() {
  const build = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) throw new Error("the extension build failed");
  const entries = listFiles(join(root, "test", "integration")).filter((f) => f.endsWith(".ts"));
  rmSync(outDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: entries,
    outdir: outDir,
    outbase: join(root, "test", "integration"),
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "es2022",
    sourcemap: "inline",
    // Provided by the extension host (vscode) or resolved from the repository's node_modules.
    external: ["vscode", "mocha", "playwright-core", "esbuild"],
    logLevel: "warning",
  });
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

/** One VS Code window running the test module; resolves with { exitCode, summary }. */
async function runOnce({ build, mode, grep }) {
  const label = `VS Code ${build.vscode}, ${mode === "restricted" ? "Restricted Mode" : mode === "korean" ? "Korean display language" : "trusted workspace"}`;
  const scratch = mkdtempSync(join(tmpdir(), "gradlens-it-"));
  const workspace = join(scratch, "workspace");
  cpSync(join(root, "test", "fixtures", "workspace"), workspace, { recursive: true });
  const summaryFile = join(scratch, "summary.json");
  const mochaLog = join(scratch, "mocha.log");
  const extraArgs = [];
  if (build.nodeMajor !== undefined) extraArgs.push("--enable-smoke-test-driver");
  if (mode === "korean") {
    installKoreanLanguagePack(join(scratch, "user-data"));
    extraArgs.push(...koreanServerArgs);
  }
  // The extension host inherits the server's environment: that is how the test module learns where
  // to write its totals and which tests to run.
  const env = {
    ...process.env,
    GRADLENS_SUMMARY: summaryFile,
    GRADLENS_MOCHA_LOG: mochaLog,
    GRADLENS_TEST_MODE: mode,
    GRADLENS_TEST_GREP: grep ?? "",
    GRADLENS_VSCODE_VERSION: build.vscode,
    GRADLENS_REPORT_DIR: scratch,
  };
  // The extension host's stdout (mocha's report) arrives through the server's output.
  const onLine = process.env.GRADLENS_INTEGRATION_VERBOSE ? (line) => console.log(`  [server] ${line}`) : undefined;

  const { chromium } = await import("playwright-core");
  let browser;
  let server;
  const started = Date.now();
  try {
    server = await startServer({ build, scratch, workspace, extensionsDir: join(scratch, "extensions"), trusted: mode !== "restricted", env, extraArgs, onLine });
    const { origin, output: serverLog } = server;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const exitCode = new Promise((resolveExit) => {
      void page.exposeFunction("codeAutomationExit", (code) => resolveExit(Number(code)));
    });
    page.on("console", (message) => {
      const text = message.text();
      if (process.env.GRADLENS_INTEGRATION_VERBOSE || /\[GradLens test\]/.test(text)) console.log(`  [page] ${text}`);
    });
    const payload = [
      ["extensionDevelopmentPath", `vscode-remote://${origin}${root}`],
      ["extensionTestsPath", `vscode-remote://${origin}${join(outDir, "index.js")}`],
    ];
    const url = `http://${origin}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    log(`${label}: starting`);
    await page.goto(url);
    const timeout = new Promise((resolveTimeout) => setTimeout(() => resolveTimeout("timeout"), runTimeoutMs));
    const outcome = await Promise.race([exitCode, timeout]);
    const summary = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, "utf8")) : undefined;
    if (mode === "korean" && outcome !== "timeout" && summary) {
      const ui = await checkKoreanWorkbench(page);
      console.log(ui.lines.join("\n"));
      // For a look by eye: Hangul must be drawn as letters, not boxes (CI installs fonts-noto-cjk).
      mkdirSync(join(root, "out", "integration"), { recursive: true });
      await page.screenshot({ path: join(root, "out", "integration", "korean-workbench.png") });
      log(`Korean workbench screenshot: out/integration/korean-workbench.png`);
      summary.passed += ui.passed;
      summary.failed += ui.failed;
    }
    const activation = readdirSync(scratch).filter((f) => f.startsWith("activation-")).map((f) => readFileSync(join(scratch, f), "utf8").trim());
    if (existsSync(mochaLog)) console.log(readFileSync(mochaLog, "utf8").trimEnd());
    if (outcome === "timeout") {
      log(`${label}: no result after ${runTimeoutMs / 1000} s`);
      if (!process.env.GRADLENS_INTEGRATION_VERBOSE) console.log(serverLog.slice(-40).join("\n"));
      return { label, exitCode: 1, summary, activation };
    }
    log(`${label}: exit ${outcome} in ${Math.round((Date.now() - started) / 1000)} s`);
    if (!summary && !process.env.GRADLENS_INTEGRATION_VERBOSE) console.log(serverLog.slice(-40).join("\n"));
    return { label, exitCode: outcome, summary, activation };
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main() {
  const onlyBuild = argument("build");
  const onlyMode = argument("mode");
  const grep = argument("grep");
  const installed = builds.filter(isInstalled).filter((b) => !onlyBuild || b.name === onlyBuild);
  if (installed.length === 0) {
    console.error("[integration] no VS Code is installed: run `node scripts/install-vscode.mjs` first");
    process.exit(1);
  }
  await compile();
  const runs = [];
  for (const build of installed) {
    if (!onlyMode || onlyMode === "trusted") runs.push({ build, mode: "trusted", grep });
  }
  // Restricted Mode behaves the same in every version; once on the newest keeps the suite short.
  if (!onlyMode || onlyMode === "restricted") runs.push({ build: installed[0], mode: "restricted", grep });
  // The display language is the workbench's and the extension host's; once on the newest build.
  if (!onlyMode || onlyMode === "korean") runs.push({ build: installed[0], mode: "korean", grep });

  let passed = 0, failed = 0, skipped = 0;
  const lines = [];
  const activation = [];
  for (const run of runs) {
    let outcome;
    try {
      outcome = await runOnce(run);
    } catch (error) {
      outcome = { label: `VS Code ${run.build.vscode} (${run.mode})`, exitCode: 1, summary: undefined };
      console.error(`[integration] ${error instanceof Error ? error.message : String(error)}`);
    }
    activation.push(...(outcome.activation ?? []));
    const s = outcome.summary ?? { passed: 0, failed: 0, skipped: 0 };
    // A run that ended badly without reporting a failure still counts as one failure.
    const extra = outcome.exitCode !== 0 && s.failed === 0 ? 1 : 0;
    passed += s.passed;
    failed += s.failed + extra;
    skipped += s.skipped ?? 0;
    lines.push(`${outcome.label}: ${s.passed} passed, ${s.failed + extra} failed${outcome.summary ? "" : " (no summary)"}`);
  }
  console.log(`\n${lines.map((l) => `[integration] ${l}`).join("\n")}`);
  const summaryFile = process.env.GRADLENS_SUMMARY;
  if (summaryFile) {
    mkdirSync(dirname(summaryFile), { recursive: true });
    writeFileSync(summaryFile, JSON.stringify({ passed, failed, skipped }));
  }
  for (const line of activation) log(`start-up cost: ${line}`);
  // Kept for the record (the numbers vary with the machine's load; they are not test results).
  mkdirSync(join(root, "out", "integration"), { recursive: true });
  writeFileSync(join(root, "out", "integration", "activation.txt"), activation.map((l) => `${l}\n`).join(""));
  rmSync(outDir, { recursive: true, force: true });
  process.exit(failed > 0 ? 1 : 0);
}

await main();
