// The Korean run of the integration harness (run-integration.mjs --mode korean): a VS Code window whose
// display language is Korean, and checks of what its workbench draws.
//
// How the display language is chosen here (verified on code-server 4.100.3 and 4.139.1): the server
// takes the locale from `--locale`, else `locale` in <user-data-dir>/User/argv.json (both verified),
// else the browser's language — but the web workbench only switches when a language pack for that
// locale is installed; without one, `vscode.env.language` stays "en" and extensions get English. The real Korean pack
// cannot be downloaded offline, so test/fixtures/language-pack-ko stands in for it: it is registered
// in the server's languagepacks.json, as VS Code does when a language pack is installed. It
// translates nothing of VS Code itself; everything Korean the checks see is GradLens's own bundles.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pack = join(root, "test", "fixtures", "language-pack-ko");

/** Server arguments for a Korean window. */
export const koreanServerArgs = ["--locale", "ko"];

/** Registers the Korean language pack stub in a fresh `--user-data-dir`. */
export function installKoreanLanguagePack(userDataDir) {
  mkdirSync(userDataDir, { recursive: true });
  const languagePacks = {
    ko: {
      hash: "gradlens-test-ko-1",
      label: "한국어",
      extensions: [{ extensionIdentifier: { id: "gradlens-test.gradlens-test-language-pack-ko" }, version: "0.0.1" }],
      translations: { vscode: join(pack, "translations", "main.i18n.json") },
    },
  };
  writeFileSync(join(userDataDir, "languagepacks.json"), JSON.stringify(languagePacks));
}

/**
 * After the Korean test module has finished (it leaves checks.grad.ts open with its lenses, beside the
 * graph of affine.grad.ts): the command palette, the editor's CodeLens text and the graph view's
 * toolbar and legend as the workbench draws them.
 * Returns { passed, failed, lines } to add to the run's totals.
 */
export async function checkKoreanWorkbench(page) {
  const results = [];
  const check = async (name, body) => {
    try {
      await body();
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  };

  await check("the command palette lists GradLens's commands in Korean", async () => {
    await page.locator(".monaco-editor").first().click();
    await page.keyboard.press("F1");
    await page.locator(".quick-input-widget input").first().waitFor({ state: "visible", timeout: 10_000 });
    await page.keyboard.type("GradLens");
    const expected = ["GradLens: 계산 그래프 보기", "GradLens: 파일의 기울기 검사", "GradLens: 로그 보기"];
    let labels = [];
    for (let i = 0; i < 40; i++) {
      labels = await page.$$eval(".quick-input-list .monaco-list-row", (rows) => rows.map((r) => r.textContent ?? ""));
      if (expected.every((title) => labels.some((l) => l.includes(title)))) break;
      await page.waitForTimeout(250);
    }
    await page.keyboard.press("Escape");
    const missing = expected.filter((title) => !labels.some((l) => l.includes(title)));
    if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}; the palette showed: ${labels.join(" | ")}`);
  });

  await check("the editor draws the CodeLens titles in Korean", async () => {
    let lenses = [];
    for (let i = 0; i < 40; i++) {
      lenses = await page.$$eval(".codelens-decoration", (els) => els.map((e) => e.textContent ?? ""));
      if (lenses.some((l) => l.includes("기울기 검사"))) break;
      await page.waitForTimeout(250);
    }
    if (!lenses.some((l) => l.includes("기울기 검사"))) throw new Error(`no "기울기 검사" lens; the editor showed: ${lenses.join(" | ")}`);
    if (lenses.some((l) => /Check gradient/.test(l))) throw new Error(`an English lens is left: ${lenses.join(" | ")}`);
  });

  await check("the graph view draws its toolbar and legend in Korean", async () => {
    let shown;
    for (let i = 0; i < 40 && !shown; i++) {
      for (const frame of page.frames()) {
        shown = await frame
          .evaluate(() => {
            const play = document.querySelector("#play");
            return play ? { play: play.getAttribute("title") ?? "", legend: document.querySelector("#legend")?.textContent ?? "" } : undefined;
          })
          .catch(() => undefined);
        if (shown) break;
      }
      if (!shown) await page.waitForTimeout(250);
    }
    if (!shown) throw new Error("no graph view toolbar found in the webview frames");
    if (!shown.play.startsWith("재생")) throw new Error(`the play button's title is ${JSON.stringify(shown.play)}`);
    if (!shown.legend.includes("잎 노드") || !shown.legend.includes("|기울기|")) throw new Error(`the legend reads ${JSON.stringify(shown.legend)}`);
  });

  const lines = results.map((r) => `  ${r.ok ? "✔" : "✗"} workbench: ${r.name}${r.ok ? "" : ` — ${r.error}`}`);
  return { passed: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length, lines };
}
