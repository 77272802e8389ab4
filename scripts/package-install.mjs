// `npm run install-extension`: one command from a fresh checkout to GradLens installed in VS Code.
// Installs the npm packages if they are missing (npm ci), builds the VSIX (scripts/package.mjs) and
// installs it with the `code` command-line tool when there is one (VS Code, or the first of
// code-insiders / codium on PATH); otherwise it prints where the VSIX is and how to install it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`[install-extension] ${command} ${args.join(" ")} failed (exit ${result.status ?? result.error?.message})`);
    process.exit(1);
  }
}

function editorCli() {
  for (const name of [process.env.GRADLENS_CODE_CLI, "code", "code-insiders", "codium"]) {
    if (!name) continue;
    const probe = spawnSync(name, ["--version"], { encoding: "utf8", shell: process.platform === "win32" });
    if (probe.status === 0) return name;
  }
  return undefined;
}

if (!existsSync(join(root, "node_modules", ".package-lock.json"))) run("npm", ["ci", "--no-audit", "--no-fund"]);
// Imported only now: package.mjs needs nothing from node_modules to load, but keeps one copy of the VSIX name.
const { vsixPath } = await import("./package.mjs");
run(process.execPath, [join(root, "scripts", "package.mjs")]);
const vsix = vsixPath();
const cli = editorCli();
if (cli) {
  run(cli, ["--install-extension", vsix, "--force"]);
  console.log(`[install-extension] installed ${vsix} with \`${cli}\`; reload VS Code's window to start it.`);
} else {
  console.log(`[install-extension] no \`code\` command on PATH. Install the package yourself:`);
  console.log(`  VS Code: Extensions view → "…" → Install from VSIX… → ${vsix}`);
  console.log(`  or: code --install-extension ${vsix}`);
}
