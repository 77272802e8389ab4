// Writes l10n/bundle.l10n.json: every English string the extension passes to `vscode.l10n.t`
// (or to a local alias `t = vscode.l10n.t`) in src/extension/, each mapped to itself.
// Translations (l10n/bundle.l10n.<lang>.json) use the same keys. Run after adding user-facing strings:
//   node scripts/extract-l10n.mjs [--check]   (--check fails when the bundle is out of date)
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sourceDir = join(root, "src", "extension");
const bundleFile = join(root, "l10n", "bundle.l10n.json");

const strings = {};
for (const file of readdirSync(sourceDir).filter((f) => f.endsWith(".ts")).sort()) {
  const text = readFileSync(join(sourceDir, file), "utf8");
  for (const match of text.matchAll(/(?:l10n\.t|\bt)\(\s*("(?:[^"\\]|\\.)*")/g)) {
    const english = JSON.parse(match[1]);
    strings[english] = english;
  }
}
const json = `${JSON.stringify(strings, null, 2)}\n`;
if (process.argv.includes("--check")) {
  const current = existsSync(bundleFile) ? readFileSync(bundleFile, "utf8") : "";
  if (current !== json) {
    console.error("l10n/bundle.l10n.json is out of date: run node scripts/extract-l10n.mjs");
    process.exit(1);
  }
} else {
  writeFileSync(bundleFile, json);
  console.log(`l10n/bundle.l10n.json: ${Object.keys(strings).length} strings`);
}
