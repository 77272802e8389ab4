/**
 * Workspace Trust, as a user meets it: in a folder VS Code does not trust (Restricted Mode),
 * GradLens runs no code — the command explains why and offers to manage trust.
 */
import * as assert from "node:assert/strict";
import { serverUrl, vscodeVersion, Workbench } from "./workbench";

describe(`GradLens from its VSIX in VS Code ${vscodeVersion} (Restricted Mode)`, function () {
  let wb: Workbench;

  before(async function () {
    wb = await Workbench.open(serverUrl("restricted"), "restricted", { trusted: false });
  });

  after(async function () {
    await wb?.close();
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") await wb?.shot("failed-restricted");
  });

  it("refuses to run code and says why", async function () {
    await wb.openFile("ch04.grad.ts");
    await wb.runCommand("GradLens: Show Computation Graph");
    const message = await wb.notification("Restricted Mode");
    assert.match(message, /GradLens runs your code .* so it is off in Restricted Mode/);
    // Nothing ran: no graph panel opened.
    assert.equal(await wb.page.locator(".tabs-container .tab", { hasText: "Graph:" }).count(), 0);
    await wb.shot("restricted-mode", { docsName: "restricted-mode.png" });
  });
});
