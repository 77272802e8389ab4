import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { closeAllEditors, eventually, fixture, gradlensDiagnostics, openFixture } from "./helpers";

describe("op checks", () => {
  before(() => vscode.commands.executeCommand("gradlens.clearResults"));
  after(closeAllEditors);

  it("puts a wrong local gradient at the op's line (Check ops and a function check)", async () => {
    const file = fixture("wrongOp.grad.ts");
    await openFixture("wrongOp.grad.ts");
    await vscode.commands.executeCommand("gradlens.checkOps");
    const wrong = await eventually(() => {
      const found = gradlensDiagnostics(file).filter((d) => d.code === "wrong-local-gradient");
      return found.length > 0 && found;
    }, "the op diagnostic");
    assert.equal(wrong[0].range.start.line, 5, "line 6: the softplus op");
    assert.match(wrong[0].message, /`softplus` at wrongOp\.grad\.ts:6 gives .* for d\/dx, central differences give/);
    await vscode.commands.executeCommand("gradlens.checkGradients");
    const mismatch = await eventually(() => {
      const found = gradlensDiagnostics(file).filter((d) => d.code === "gradient-mismatch");
      return found.length > 0 && found;
    }, "the mismatch diagnostic");
    assert.match(mismatch.map((d) => d.message).join("\n"), /softplus/);
    assert.ok(gradlensDiagnostics(file).some((d) => d.code === "wrong-local-gradient" && d.range.start.line === 5));
  });
});
