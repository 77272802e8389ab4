// `npm run test:e2e`: GradLens as a user meets it. Installs the packaged VSIX into the offline VS Code
// (the server's own --install-extension, into a fresh extensions folder), starts two VS Code servers on a
// copy of examples/ (plus a Python file) — one trusted (--disable-workspace-trust), one left in Restricted
// Mode, one trusted with Korean as its display language — and runs the mocha suite test/e2e/*.test.ts, which opens them in headless Chromium and clicks
// and types through the UI. No extension-development payload: the workbench loads the installed VSIX.
//
// The VSIX is (re)built when it is missing or older than the sources. Screenshots of every step go to
// test-results/e2e/; with --docs they are also written to docs/images/ for the README.
//
// Usage: node scripts/e2e.mjs [--build newest|oldest] [--rebuild | --reuse] [--docs] [--grep text]
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { builds, isInstalled } from "./install-vscode.mjs";
import { vsixPath } from "./package.mjs";
import { installVsix, startServer } from "./vscode-server.mjs";
import { installKoreanLanguagePack, koreanServerArgs } from "./korean-display.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function argument(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function log(message) {
  console.log(`[e2e] ${message}`);
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** The VSIX under test: rebuilt when missing, asked for, or older than what goes into it. */
function ensureVsix() {
  const vsix = vsixPath();
  const inputs = ["src", "python", "media", "l10n", "package.json", "package.nls.json", ".vscodeignore"].map((p) => newestMtime(join(root, p)));
  // --reuse: test the VSIX that is there (quicker while writing tests; other people's edits make it "stale").
  const stale = !existsSync(vsix) || (!process.argv.includes("--reuse") && statSync(vsix).mtimeMs < Math.max(...inputs));
  if (stale || process.argv.includes("--rebuild")) {
    log(existsSync(vsix) ? "rebuilding the VSIX (sources changed)" : "building the VSIX");
    const run = spawnSync(process.execPath, [join(root, "scripts", "package.mjs"), "--no-secret-scan"], { cwd: root, stdio: "inherit" });
    if (run.status !== 0) throw new Error("npm run package failed");
  }
  return vsix;
}

/** examples/ plus Python files (micrograd's engine.py and nn.py among them), as a user's project. */
function makeWorkspace(dir) {
  cpSync(join(root, "examples"), dir, { recursive: true });
  for (const name of ["ch04.py", "train_forever.py", "micrograd_moons.py"]) copyFileSync(join(root, "test", "e2e", "fixtures", name), join(dir, name));
  // micrograd's layout beside the demo that trains with it (micrograd_moons.py imports both).
  for (const name of ["engine.py", "nn.py"]) copyFileSync(join(root, "test", "fixtures", "python", "micrograd_style", name), join(dir, name));
  return dir;
}

function runMocha(env) {
  const args = [
    join(root, "node_modules", "mocha", "bin", "mocha.js"),
    "--no-config", "--require", "tsx/cjs", "--timeout", "120000",
    "--reporter", join(root, "scripts", "mocha-summary-reporter.js"),
  ];
  const grep = argument("grep");
  if (grep) args.push("--grep", grep);
  args.push(join(root, "test", "e2e", "*.test.ts"));
  return new Promise((resolveExit) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: "inherit" });
    child.on("exit", (code) => resolveExit(code ?? 1));
  });
}

async function main() {
  const wanted = argument("build") ?? "newest";
  const build = builds.find((b) => b.name === wanted && isInstalled(b)) ?? builds.find(isInstalled);
  if (!build) throw new Error("no VS Code is installed: run `node scripts/install-vscode.mjs` first");
  const vsix = ensureVsix();

  const scratch = mkdtempSync(join(tmpdir(), "gradlens-e2e-"));
  const servers = [];
  const started = Date.now();
  try {
    const extensionsDir = join(scratch, "extensions");
    log(`installing ${vsix} into VS Code ${build.vscode} (code-server ${build.codeServer})`);
    log(installVsix(build, vsix, extensionsDir).split("\n").pop());
    const trustedDir = join(scratch, "trusted");
    const restrictedDir = join(scratch, "restricted");
    // A third window whose display language is Korean (korean-display.mjs: the language pack stand-in), for the Korean pictures.
    const koreanDir = join(scratch, "korean");
    installKoreanLanguagePack(join(mkdirOf(koreanDir), "user-data"));
    const [trusted, restricted, korean] = await Promise.all([
      startServer({ build, scratch: mkdirOf(trustedDir), workspace: makeWorkspace(join(trustedDir, "gradlens-examples")), extensionsDir, trusted: true }),
      startServer({ build, scratch: mkdirOf(restrictedDir), workspace: makeWorkspace(join(restrictedDir, "gradlens-examples")), extensionsDir, trusted: false }),
      startServer({ build, scratch: koreanDir, workspace: makeWorkspace(join(koreanDir, "gradlens-examples")), extensionsDir, trusted: true, extraArgs: koreanServerArgs }),
    ]);
    servers.push(trusted, restricted, korean);
    const shots = join(root, "test-results", "e2e");
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    const code = await runMocha({
      ...process.env,
      GRADLENS_E2E_TRUSTED_URL: trusted.url,
      GRADLENS_E2E_RESTRICTED_URL: restricted.url,
      GRADLENS_E2E_KOREAN_URL: korean.url,
      GRADLENS_E2E_VSCODE: build.vscode,
      GRADLENS_E2E_SHOTS: shots,
      GRADLENS_E2E_DOCS: process.argv.includes("--docs") ? join(root, "docs", "images") : "",
    });
    if (code === 0 && process.argv.includes("--docs")) makeGif(join(root, "docs", "images"));
    log(`VS Code ${build.vscode}: mocha exit ${code} in ${Math.round((Date.now() - started) / 1000)} s; screenshots in ${shots}`);
    if (code !== 0) {
      for (const [name, server] of [["trusted", trusted], ["restricted", restricted], ["korean", korean]]) {
        console.log(`--- ${name} server output (last lines)\n${server.output.slice(-25).join("\n")}`);
      }
    }
    return code;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * docs/images/backprop.gif from the animation's frames, with ImageMagick's convert when it is installed
 * (apt-get install imagemagick); the numbered PNG frames stay either way.
 */
function makeGif(dir) {
  const convert = "/usr/bin/convert";
  const frames = readdirSync(dir).filter((f) => /^backprop-\d+\.png$/.test(f)).sort((a, b) => Number(a.match(/\d+/)[0]) - Number(b.match(/\d+/)[0]));
  if (!existsSync(convert) || frames.length === 0) {
    log("no ImageMagick: docs/images keeps the animation as numbered PNG frames");
    return;
  }
  const args = ["-delay", "120", "-loop", "0", ...frames.map((f) => join(dir, f)), "-resize", "900x", "-colors", "64", "-layers", "Optimize", join(dir, "backprop.gif")];
  const result = spawnSync(convert, args, { encoding: "utf8" });
  log(result.status === 0 ? `wrote docs/images/backprop.gif (${Math.round(statSync(join(dir, "backprop.gif")).size / 1024)} KB)` : `convert failed: ${result.stderr}`);
}

function mkdirOf(dir) {
  mkdirSync(dir, { recursive: true });
  return dir;
}

try {
  process.exit(await main());
} catch (error) {
  console.error(`[e2e] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
