// `npm run package`: builds the production bundles and packs gradlens-<version>.vsix for this machine's
// platform, then lists what went in.
//
// Why a platform-specific package: the runner bundles the user's .grad.ts files with esbuild at run time,
// and esbuild is a native binary (one npm package per platform, e.g. @esbuild/linux-x64). The VSIX
// therefore carries esbuild's small JS API (node_modules/esbuild/lib/main.js) plus the one binary for its
// target, and is marked with that target (`vsce package --target`), so VS Code offers it only where the
// binary runs. Build on each platform (or in CI per platform) to publish for more of them.
// The alternative, esbuild-wasm, would make one package for every platform but not a small one
// (esbuild.wasm is 12.3 MB, 3.2 MB compressed, against 4.4 MB for the linux-x64 binary) and it
// bundles several times slower, on every run of the user's file.
// Everything else in the package is listed in .vscodeignore (an allow-list).
//
// Usage: node scripts/package.mjs [--skip-build] [--no-secret-scan]  (prints the VSIX path as its last line)
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The vsce target and the esbuild binary package for the machine this runs on. */
export function hostTarget() {
  const { platform, arch } = process;
  const musl = platform === "linux" && !process.report?.getReport?.().header?.glibcVersionRuntime;
  const vsceArch = arch === "arm" ? "armhf" : arch;
  const target = musl ? `alpine-${arch}` : `${platform}-${vsceArch}`;
  return { target, esbuildPackage: `@esbuild/${platform}-${arch}` };
}

export function vsixPath() {
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return join(root, `gradlens-${version}.vsix`);
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status})`);
}

/** The VSIX's entries with their uncompressed and compressed sizes (read with Python's zipfile, always here). */
function listVsix(file) {
  // Third column: the line count of each bundle in dist/ (a minified bundle has few lines).
  const script = "import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); print(json.dumps([[i.filename, i.file_size, i.compress_size, z.read(i).count(b'\\n') if i.filename.startswith('extension/dist/') and i.filename.endswith('.js') else 0] for i in z.infolist()]))";
  const result = spawnSync("python3", ["-c", script, file], { encoding: "utf8" });
  return result.status === 0 ? JSON.parse(result.stdout) : undefined;
}

/** What the extension needs at run time; a VSIX without one of these is broken, whatever vsce says. */
const requiredEntries = [
  "dist/extension.js", "dist/runner.js", "dist/analysis.js", "dist/analysisThread.js", "dist/runnerWorker.js", "dist/runnerBundleThread.js", "dist/pythonRunner.js", "dist/pythonResultThread.js", "dist/webview.js", "dist/cli.js",
  "dist/gradlens.d.ts", "node_modules/gradlens-ts-plugin/index.js", "node_modules/esbuild/lib/main.js",
  "media/icon.png", "media/graph.css", "python/gradlens_run.py", "l10n/bundle.l10n.json", "package.nls.json",
  "README.md", "CHANGELOG.md", "LICENSE.txt",
];
/** What must never ship: sources, tests, source maps, other dependencies. */
const forbidden = /^extension\/(src|test|scripts|bench|examples|out)\/|\.map$|\.pyc$|\.ts$(?<!\.d\.ts)|^extension\/node_modules\/(?!esbuild\/|@esbuild\/|gradlens-ts-plugin\/)/;

/** Checks the packed file list against `requiredEntries` and `forbidden`; returns the problems. */
export function checkEntries(names, esbuildPackage) {
  const present = new Set(names.map((n) => n.toLowerCase()));
  const problems = [];
  const binary = process.platform === "win32" ? `node_modules/${esbuildPackage}/esbuild.exe` : `node_modules/${esbuildPackage}/bin/esbuild`;
  for (const entry of [...requiredEntries, binary]) {
    if (!present.has(`extension/${entry}`.toLowerCase())) problems.push(`missing ${entry}`);
  }
  for (const name of names) if (forbidden.test(name)) problems.push(`should not ship ${name}`);
  return problems;
}

/** Bundles that are not minified: another `npm run build` replaced dist/ while vsce was packing. */
function unminified(entries) {
  return entries.filter(([name, , , lines]) => name.startsWith("extension/dist/") && lines > 1000).map(([name]) => name);
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

function main() {
  const { target, esbuildPackage } = hostTarget();
  if (!existsSync(join(root, "node_modules", esbuildPackage))) {
    throw new Error(`${esbuildPackage} is not installed: run npm ci on this platform first`);
  }
  const out = vsixPath();
  // A build running at the same time (tests rebuild dist/ unminified) can slip into the package: try again once.
  for (let attempt = 1; ; attempt++) {
    pack(target, out);
    const entries = listVsix(out);
    const stale = entries ? unminified(entries) : [];
    if (stale.length === 0 || process.argv.includes("--skip-build")) break;
    if (attempt === 2) throw new Error(`not minified (dist/ was rebuilt during packaging): ${stale.join(", ")}`);
    console.log(`[package] ${stale.join(", ")} not minified; building and packing again`);
  }
  report(out, esbuildPackage, target);
}

function pack(target, out) {
  if (!process.argv.includes("--skip-build")) run(process.execPath, [join(root, "scripts", "build.mjs"), "--production"]);
  // Without --no-dependencies vsce asks npm for the production dependencies; .vscodeignore keeps only
  // esbuild's API, its binary and the TypeScript server plugin from them.
  // vsce's secret scan takes about a minute over the bundles; the e2e suite rebuilds with --no-secret-scan
  // (same files), `npm run package` keeps it.
  const scan = process.argv.includes("--no-secret-scan") ? ["--allow-package-all-secrets"] : [];
  run(process.execPath, [join(root, "node_modules", "@vscode", "vsce", "vsce"), "package", "--target", target, "--out", out, ...scan]);
}

function report(out, esbuildPackage, target) {
  const entries = listVsix(out);
  if (entries) {
    const groups = new Map();
    for (const [name, , packed] of entries) {
      const group = name.startsWith("extension/node_modules/@esbuild/") ? "esbuild binary" : name.startsWith("extension/node_modules/esbuild/") ? "esbuild JS API" : name.split("/").slice(0, 2).join("/");
      groups.set(group, (groups.get(group) ?? 0) + packed);
    }
    console.log(`\n${entries.length} files; compressed size by part:`);
    for (const [group, bytes] of [...groups].sort((a, b) => b[1] - a[1])) console.log(`  ${kb(bytes).padStart(8)}  ${group}`);
    // Another build running at the same moment can remove a file while vsce collects them.
    const problems = checkEntries(entries.map(([name]) => name), esbuildPackage);
    if (problems.length > 0) throw new Error(`the package is incomplete or too big:\n  ${problems.join("\n  ")}`);
  }
  console.log(`\n${target} package, ${kb(statSync(out).size)}:`);
  console.log(out);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(`[package] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
