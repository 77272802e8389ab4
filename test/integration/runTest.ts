/**
 * The same integration tests on a machine that can download VS Code (or has one at
 * VSCODE_EXECUTABLE_PATH), through @vscode/test-electron. Not used here: with no internet,
 * scripts/run-integration.mjs runs them in the VS Code bundled with code-server.
 *
 * Compile first with `node scripts/run-integration.mjs --compile-only` (builds dist/ and out/test/integration/), then:
 *   node out/test/integration/runTest.js
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runTests } from "@vscode/test-electron";

async function main(): Promise<void> {
  const root = path.resolve(__dirname, "../../..");
  const extensionTestsPath = path.resolve(__dirname, "index.js");
  let failed = false;
  for (const mode of ["trusted", "restricted"] as const) {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "gradlens-it-"));
    fs.cpSync(path.join(root, "test", "fixtures", "workspace"), workspace, { recursive: true });
    try {
      await runTests({
        extensionDevelopmentPath: root,
        extensionTestsPath,
        vscodeExecutablePath: process.env.VSCODE_EXECUTABLE_PATH,
        launchArgs: [workspace, "--disable-extensions", ...(mode === "trusted" ? ["--disable-workspace-trust"] : [])],
        extensionTestsEnv: { GRADLENS_TEST_MODE: mode },
      });
    } catch (error) {
      console.error(`integration tests (${mode}) failed: ${error instanceof Error ? error.message : String(error)}`);
      failed = true;
    } finally {
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
