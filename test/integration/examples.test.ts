/**
 * Every shipped example opens with zero problems in the editor: the TypeScript server (with the
 * GradLens plugin) reports no error or warning for it. The examples are copied into the fixture
 * workspace — a temporary folder with no node_modules above it, as on a user's machine, so only
 * the extension can provide the "gradlens" module and Node's types.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { closeAllEditors, eventually, extensionId, fixture } from "./helpers";

/** A deliberate error on the last line: once the server reports it, it has checked the whole file. */
const PROBE = 'const gradlensProbe: number = "not a number";';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe("the shipped examples open with zero problems", function () {
  this.timeout(180_000);
  const shipped = path.join(vscode.extensions.getExtension(extensionId)?.extensionPath ?? "", "examples");
  const copy = fixture("shipped-examples");
  const examples = filesUnder(shipped).filter((f) => f.endsWith(".ts")).map((f) => path.relative(shipped, f));

  before(() => {
    fs.rmSync(copy, { recursive: true, force: true });
    fs.cpSync(shipped, copy, { recursive: true });
  });
  after(async () => {
    await closeAllEditors();
    fs.rmSync(copy, { recursive: true, force: true });
  });

  it("has examples, the microgpt one among them", () => {
    assert.ok(examples.includes("microgpt.grad.ts") && examples.length >= 4, examples.join(", "));
  });

  for (const example of examples) {
    it(`${example}: no errors or warnings`, async () => {
      const file = path.join(copy, example);
      const text = fs.readFileSync(file, "utf8").trimEnd();
      const probeLine = text.split("\n").length + 1; // 0-based line of the probe after one blank line
      fs.writeFileSync(file, `${text}\n\n${PROBE}\n`);
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      await vscode.window.showTextDocument(document);
      const problems = () => vscode.languages.getDiagnostics(document.uri).filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning);
      await eventually(() => problems().some((d) => d.range.start.line === probeLine), `the TypeScript server to check ${example}`, 120_000);
      const others = problems().filter((d) => d.range.start.line !== probeLine);
      assert.deepEqual(others.map((d) => `${d.range.start.line + 1}: ${d.message}`), []);
    });
  }
});
