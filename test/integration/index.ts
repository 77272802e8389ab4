/**
 * The test module VS Code loads in the extension host (`extensionTestsPath`): `run()` runs mocha
 * over every compiled `*.test.js` next to it.
 * In Restricted Mode (GRADLENS_TEST_MODE=restricted) only `*.restricted.test.js` run; in the Korean window
 * (GRADLENS_TEST_MODE=korean) only `l10n.test.js` (the others expect English); otherwise all but the restricted ones.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { format } from "node:util";
import Mocha from "mocha";

export function run(): Promise<void> {
  copyReportTo(process.env.GRADLENS_MOCHA_LOG);
  const mode = process.env.GRADLENS_TEST_MODE ?? "trusted";
  const mocha = new Mocha({
    ui: "bdd",
    color: false,
    timeout: 60_000,
    // Every mocha run reports its totals through the shared reporter (GRADLENS_SUMMARY).
    reporter: summaryReporter(__dirname),
    ...(process.env.GRADLENS_TEST_GREP ? { grep: process.env.GRADLENS_TEST_GREP } : {}),
  });
  for (const file of testFiles(__dirname)) {
    if (runsIn(mode, file)) mocha.addFile(file);
  }
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}

function runsIn(mode: string, file: string): boolean {
  if (mode === "restricted") return file.endsWith(".restricted.test.js");
  if (mode === "korean") return path.basename(file) === "l10n.test.js";
  return !file.endsWith(".restricted.test.js");
}

/** scripts/mocha-summary-reporter.js of the repository the compiled tests live in (somewhere under out/). */
function summaryReporter(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "scripts", "mocha-summary-reporter.js");
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`scripts/mocha-summary-reporter.js not found above ${start}`);
  }
}

function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? testFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)]))
    .filter((file) => file.endsWith(".test.js"))
    .sort();
}

/**
 * The extension host's stdout goes nowhere the test runner sees, so mocha's report (which it
 * prints through `Base.consoleLog`) is also appended to a file that scripts/run-integration.mjs prints.
 */
function copyReportTo(file: string | undefined): void {
  if (!file) return;
  // `consoleLog` is mocha's own indirection for reporter output; @types/mocha does not declare it.
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const original = base.consoleLog;
  base.consoleLog = (...args: unknown[]) => {
    fs.appendFileSync(file, `${format(...args)}\n`);
    original(...args);
  };
}
