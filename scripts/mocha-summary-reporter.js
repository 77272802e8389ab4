// Mocha's spec reporter, plus a JSON file with the totals (path in GRADLENS_SUMMARY) that
// scripts/test-all.mjs adds up across suites. Used by every mocha run, in Node and inside VS Code.
"use strict";
const fs = require("fs");
const path = require("path");
const Mocha = require("mocha");

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.GRADLENS_SUMMARY;
      if (!file) return;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const { passes, failures, pending } = runner.stats ?? this.stats;
      fs.writeFileSync(file, JSON.stringify({ passed: passes, failed: failures, skipped: pending }));
    });
  }
}
module.exports = SummaryReporter;
