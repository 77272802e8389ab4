// Runs every test suite and prints the totals over all of them as the last line:
// "N passed, N failed" (what CI reads). A suite that dies without a summary counts as one failure.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";

const summaries = resolve("out/summaries");
rmSync(summaries, { recursive: true, force: true });
mkdirSync(summaries, { recursive: true });

const suites = [
  { name: "static", script: "test:static" },
  { name: "unit", script: "test:unit" },
  { name: "webview", script: "test:webview" },
  { name: "integration", script: "test:integration" },
  { name: "e2e", script: "test:e2e" },
];
const scripts = JSON.parse(readFileSync("package.json", "utf8")).scripts;
const only = process.argv.slice(2);

let passed = 0, failed = 0, skipped = 0;
const lines = [];
for (const suite of suites) {
  if (only.length > 0 && !only.includes(suite.name)) continue;
  if (!scripts[suite.script]) continue;
  const summary = resolve(summaries, `${suite.name}.json`);
  console.log(`\n=== ${suite.name} (npm run ${suite.script})`);
  const run = spawnSync("npm", ["run", "--silent", suite.script], {
    stdio: "inherit",
    env: { ...process.env, GRADLENS_SUMMARY: summary },
  });
  if (existsSync(summary)) {
    const s = JSON.parse(readFileSync(summary, "utf8"));
    passed += s.passed;
    failed += s.failed;
    skipped += s.skipped ?? 0;
    // A suite whose runner failed after reporting (or reported 0 failures but exited non-zero) still fails.
    const extra = run.status !== 0 && s.failed === 0 ? 1 : 0;
    failed += extra;
    lines.push(`${suite.name}: ${s.passed} passed, ${s.failed + extra} failed`);
  } else {
    failed += 1;
    lines.push(`${suite.name}: no result (exit ${run.status}) — counted as 1 failed`);
  }
}
console.log("\n" + lines.join("\n"));
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
