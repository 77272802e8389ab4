// `npm run bench`: runs every bench/*.bench.ts, one after another, each in its own Node
// process (`node --expose-gc --import tsx FILE`), so one benchmark's heap cannot slow the next.
// Each bench prints its own table. Optional arguments filter by file name:
//   npm run bench -- engine      runs only files whose name contains "engine".
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";

const benchDir = resolve("bench");
const filters = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((word) => f.includes(word)))
  .sort();

if (files.length === 0) {
  console.error(`no bench/*.bench.ts file${filters.length ? ` matching ${filters.join(", ")}` : ""}`);
  process.exit(1);
}

const results = [];
for (const file of files) {
  console.log(`\n=== ${file}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", join(benchDir, file)], { stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  results.push({ file, ok: run.status === 0, seconds, status: run.status ?? run.signal });
}

console.log("\n=== summary");
const width = Math.max(...results.map((r) => r.file.length));
for (const r of results) console.log(`${r.file.padEnd(width)}  ${r.ok ? "ok    " : `FAILED (${r.status})`}  ${r.seconds} s`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
