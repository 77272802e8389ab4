/**
 * The display language reaches every layer: contributions (package.nls.<lang>.json), runtime strings
 * (l10n/bundle.l10n.<lang>.json), and the runners' own messages made in the worker thread.
 *
 * It runs in every English window (GRADLENS_TEST_MODE trusted) and in the Korean one that
 * scripts/run-integration.mjs starts with `--locale ko` and a Korean language pack (mode "korean").
 * The Korean run leaves checks.grad.ts open with its lenses beside a graph view: the harness then
 * reads the command palette, the CodeLens text and the graph view's toolbar as the workbench draws them.
 */
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { RunResult } from "../../src/protocol/result";
import { closeAllEditors, eventually, extensionId, fixture, gradlens, gradlensDiagnostics, graphTab, hoverText, openFixture } from "./helpers";

const korean = process.env.GRADLENS_TEST_MODE === "korean";

/** What each check expects, in the language of this window. */
const expected = korean
  ? {
      language: "ko",
      showGraphTitle: "계산 그래프 보기",
      checkLens: "기울기 검사",
      verdictOk: /^✓ 기울기 정상 · 최대 상대 오차 /,
      // The line is 12 unless an earlier suite left an edit in the open document.
      mismatch: /^✗ checks\.grad\.ts:\d+의 `\*`은\(는\) d\/db를 1\(으\)로 주지만, 중앙 차분은 2입니다$/,
      status: /^\$\(type-hierarchy\) GradLens: 노드 \d+개$/,
      hover: /값 \*\*2\*\* · 기울기 \*\*3\*\* · 연산 `잎 노드`/,
      logZero: "log(0)은 -Infinity입니다: 0의 로그는 음의 무한대입니다",
      graphTitle: "그래프: affine.grad.ts — z",
    }
  : {
      language: "en",
      showGraphTitle: "Show Computation Graph",
      checkLens: "Check gradient",
      verdictOk: /^✓ gradient OK · max rel err /,
      mismatch: /^✗ `\*` at checks\.grad\.ts:\d+ gives 1 for d\/db, central differences give 2$/,
      status: /^\$\(type-hierarchy\) GradLens: \d+ nodes$/,
      hover: /data \*\*2\*\* · grad \*\*3\*\* · op `leaf`/,
      logZero: "log(0) is -Infinity: the logarithm of 0 is minus infinity",
      graphTitle: "Graph: affine.grad.ts — z",
    };

async function lensTitles(file: string): Promise<string[]> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", vscode.Uri.file(file), 100);
  return lenses.filter((l) => l.command?.command.startsWith("gradlens.")).map((l) => l.command?.title ?? "");
}

describe(`display language (${expected.language})`, () => {
  before(async () => {
    await gradlens();
    await vscode.commands.executeCommand("gradlens.clearResults");
  });
  // The Korean window stays as it is for the harness's workbench checks.
  after(async () => {
    if (korean) return;
    await closeAllEditors();
    await vscode.commands.executeCommand("gradlens.clearResults");
  });

  it(`VS Code runs in ${expected.language}`, () => {
    assert.equal(vscode.env.language, expected.language);
  });

  it("the contributed command titles come from the matching package.nls file", () => {
    const manifest = vscode.extensions.getExtension(extensionId)?.packageJSON as { contributes: { commands: { command: string; title: string | { value: string } }[] } };
    const showGraph = manifest.contributes.commands.find((c) => c.command === "gradlens.showGraph");
    // The workbench hands extensions their manifest localised; newer versions keep the English as `original`.
    const title = typeof showGraph?.title === "string" ? showGraph.title : showGraph?.title.value;
    assert.equal(title, expected.showGraphTitle);
  });

  it("CodeLens titles are in the display language", async () => {
    await openFixture("checks.grad.ts");
    assert.deepEqual(await lensTitles(fixture("checks.grad.ts")), [expected.checkLens, expected.checkLens]);
  });

  it("a gradient check's verdicts (lens) and its mismatch are in the display language", async () => {
    const file = fixture("checks.grad.ts");
    await openFixture("checks.grad.ts");
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.checkGradients");
    assert.equal(result?.checks?.length, 2);
    const titles = await lensTitles(file);
    assert.match(titles[0], expected.verdictOk);
    assert.ok(titles.some((title) => expected.mismatch.test(title)), titles.join(" | "));
  });

  it("the status bar and the hover after a run are in the display language", async () => {
    const api = await gradlens();
    const editor = await openFixture("affine.grad.ts");
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.runFile");
    assert.ok(result && !result.error, result?.error?.message);
    assert.match(api.statusBarText(), expected.status);
    // `x` in affine.grad.ts is a leaf with data 2 and grad 3.
    const line = editor.document.getText().split("\n").findIndex((l) => /\bx\b.*new Value\(2\)/.test(l));
    assert.ok(line >= 0, "affine.grad.ts declares x = new Value(2)");
    const position = new vscode.Position(line, editor.document.lineAt(line).text.search(/\bx\b/));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>("vscode.executeHoverProvider", editor.document.uri, position);
    assert.match(hoverText(hovers), expected.hover);
  });

  it("the runner's own message, made in its worker thread, is in the display language", async () => {
    const file = fixture("nonfinite.grad.ts");
    await openFixture("nonfinite.grad.ts");
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.runFile");
    assert.equal(result?.nonFinite?.message, expected.logZero);
    const warning = await eventually(() => gradlensDiagnostics(file).find((d) => d.code === "non-finite"), "the non-finite warning", 5000);
    assert.equal(warning.message, expected.logZero);
  });

  it("the graph view opens under its title in the display language", async () => {
    await openFixture("affine.grad.ts");
    const result = await vscode.commands.executeCommand<RunResult>("gradlens.showGraph");
    assert.ok(result && result.roots.length > 0);
    const rendered = await vscode.commands.executeCommand<{ nodeCount: number } | undefined>("gradlens.graph.waitForRender", 20_000);
    assert.ok(rendered && rendered.nodeCount > 0, "the graph view did not render");
    const tab = graphTab();
    assert.equal(tab?.label, expected.graphTitle);
    // The Korean run ends with checks.grad.ts beside the graph: the harness reads the lenses, the
    // command palette and the graph view's toolbar and legend as the workbench draws them.
    if (korean) {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(fixture("checks.grad.ts")));
      await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
    }
  });
});
