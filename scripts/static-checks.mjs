// The strict type check and ESLint as a test suite: each counts as one test in the totals,
// so a type error (e.g. in how users call gradcheck) or a lint error fails CI like a broken test.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const checks = [
  { name: "tsc --noEmit (strict)", command: "npx", args: ["tsc", "--noEmit", "-p", "."] },
  { name: "eslint .", command: "npx", args: ["eslint", "."] },
];
let passed = 0, failed = 0;
for (const check of checks) {
  const run = spawnSync(check.command, check.args, { stdio: "inherit" });
  const ok = run.status === 0;
  console.log(`  ${ok ? "✔" : "✗"} ${check.name}`);
  if (ok) passed++; else failed++;
}
const summary = process.env.GRADLENS_SUMMARY;
if (summary) {
  mkdirSync(dirname(summary), { recursive: true });
  writeFileSync(summary, JSON.stringify({ passed, failed, skipped: 0 }));
}
process.exit(failed > 0 ? 1 : 0);
