/**
 * Localisation bundles: the English bundle is exactly what the code asks for, every translation has
 * the same keys and keeps the placeholders, nothing is left in English, and the tutorial's terms
 * (l10n/GLOSSARY.md) are used wherever the English uses them.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { getL10nJson } from "@vscode/l10n-dev";

const root = path.resolve(__dirname, "..", "..");
const translations = ["ko"];

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(root, file), "utf8")) as Record<string, unknown>;
}

/** A bundle's messages as plain strings (a message may also be `{ message, comment }`). */
function messages(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(readJson(file))) {
    out.set(key, typeof value === "string" ? value : (value as { message: string }).message);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .filter((f) => /\.tsx?$/.test(f) && !f.endsWith(".d.ts"));
}

/** Every `%key%` placeholder in package.json. */
function manifestKeys(): string[] {
  const keys: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === "string") {
      const match = /^%(.+)%$/.exec(node);
      if (match) keys.push(match[1]);
    } else if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") Object.values(node).forEach(walk);
  };
  walk(readJson("package.json"));
  return keys;
}

const placeholders = (text: string) => [...text.matchAll(/\{\d+\}/g)].map((m) => m[0]).sort();
const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

/** Glossary rows marked ✓: English terms (comma-separated) → the Korean term they must become. */
function checkedTerms(): { english: string; korean: string }[] {
  const rows = fs.readFileSync(path.join(root, "l10n", "GLOSSARY.md"), "utf8").split("\n").filter((l) => l.startsWith("| "));
  const terms: { english: string; korean: string }[] = [];
  for (const row of rows) {
    const [english, korean, checked] = row.split("|").slice(1).map((c) => c.trim());
    if (checked !== "✓") continue;
    // "output (node)" → "output"; "출력, 출력 노드" → the first spelling is the one required.
    const required = korean.split(",")[0].trim();
    for (const term of english.split(",")) terms.push({ english: term.replace(/\(.*\)/, "").trim(), korean: required });
  }
  return terms.sort((a, b) => b.english.length - a.english.length);
}

/** English → translation pairs of every bundle and of package.nls. */
function allPairs(language: string): [string, string][] {
  const pairs: [string, string][] = [];
  const english = messages("l10n/bundle.l10n.json");
  const translated = messages(`l10n/bundle.l10n.${language}.json`);
  for (const [key, value] of english) pairs.push([value, translated.get(key) ?? ""]);
  const nls = messages("package.nls.json");
  const nlsTranslated = messages(`package.nls.${language}.json`);
  for (const [key, value] of nls) pairs.push([value, nlsTranslated.get(key) ?? ""]);
  return pairs;
}

describe("localisation", () => {
  it("bundle.l10n.json holds exactly the strings the code passes to l10n.t (npm run l10n:export)", async () => {
    // Only files that mention l10n can hold a call (the extractor skips the others too, after parsing them).
    const files = sourceFiles(path.join(root, "src"))
      .map((f) => ({ extension: path.extname(f), contents: fs.readFileSync(f, "utf8") }))
      .filter((f) => f.contents.includes("l10n"));
    const expected = Object.keys(await getL10nJson(files)).sort();
    const actual = [...messages("l10n/bundle.l10n.json").keys()].sort();
    assert.ok(expected.length > 100, `only ${expected.length} strings found in src/: did the extraction break?`);
    assert.deepEqual(actual.filter((k) => !expected.includes(k)), [], "stale keys in l10n/bundle.l10n.json: run npm run l10n:export");
    assert.deepEqual(expected.filter((k) => !actual.includes(k)), [], "strings missing from l10n/bundle.l10n.json: run npm run l10n:export");
  });

  it("the export finds strings through every import style the code uses", async () => {
    // A guard on the test above: if the extractor stopped seeing one style, strings would silently drop out.
    const found = await getL10nJson([
      { extension: ".ts", contents: 'import * as vscode from "vscode";\nvscode.l10n.t("from vscode {0}", 1);' },
      { extension: ".ts", contents: 'import * as l10n from "@vscode/l10n";\nl10n.t("from @vscode/l10n");' },
    ]);
    assert.deepEqual(Object.keys(found).sort(), ["from @vscode/l10n", "from vscode {0}"]);
  });

  it("every %key% in package.json is defined in package.nls.json, and no key is unused", () => {
    const used = [...new Set(manifestKeys())].sort();
    const defined = [...messages("package.nls.json").keys()].sort();
    assert.ok(used.length >= 20);
    assert.deepEqual(used.filter((k) => !defined.includes(k)), [], "placeholders without an English text");
    assert.deepEqual(defined.filter((k) => !used.includes(k)), [], "package.nls.json keys nothing uses");
  });

  for (const language of translations) {
    for (const [englishFile, translatedFile] of [
      ["l10n/bundle.l10n.json", `l10n/bundle.l10n.${language}.json`],
      ["package.nls.json", `package.nls.${language}.json`],
    ]) {
      it(`${translatedFile} has every key of ${englishFile} and no other`, () => {
        const english = [...messages(englishFile).keys()].sort();
        const translated = [...messages(translatedFile).keys()].sort();
        assert.deepEqual(english.filter((k) => !translated.includes(k)), [], "untranslated keys");
        assert.deepEqual(translated.filter((k) => !english.includes(k)), [], "stale keys");
      });

      it(`${translatedFile} keeps every placeholder, code span and bold mark`, () => {
        const english = messages(englishFile);
        for (const [key, text] of messages(translatedFile)) {
          const source = english.get(key) ?? key;
          assert.deepEqual(placeholders(text), placeholders(source), `placeholders of ${JSON.stringify(key)}`);
          assert.equal(count(text, /`/g), count(source, /`/g), `backticks of ${JSON.stringify(key)}`);
          assert.equal(count(text, /\*\*/g), count(source, /\*\*/g), `bold marks of ${JSON.stringify(key)}`);
          assert.equal(count(text, /#gradlens\.[\w.]+#/g), count(source, /#gradlens\.[\w.]+#/g), `setting links of ${JSON.stringify(key)}`);
        }
      });

      it(`${translatedFile} is translated: every message with words is in ${language}`, () => {
        const english = messages(englishFile);
        // Names and symbols that stay as they are in every language.
        const untranslatable = /^(GradLens|GradLens: |PNG|SVG|DOT|\{0\} — \{1\} ms|GradLens: \{0\})$/;
        const untranslated = [...messages(translatedFile)]
          .filter(([key, text]) => !untranslatable.test(english.get(key) ?? key) && !/[\uac00-\ud7a3]/.test(text))
          .map(([key]) => key);
        assert.deepEqual(untranslated, []);
      });
    }

    it(`the ${language} translations use the glossary's terms (l10n/GLOSSARY.md)`, () => {
      const terms = checkedTerms();
      assert.ok(terms.some((t) => t.english === "gradient" && t.korean === "기울기"), "the glossary lost its checked rows");
      const problems: string[] = [];
      for (const [english, translated] of allPairs(language)) {
        let rest = english.toLowerCase();
        for (const { english: term, korean } of terms) {
          // A whole word, not part of a dotted name (`.grad.ts`, `x.grad`, `Node.js`) nor a call (`input()`).
          const pattern = new RegExp(`(?<![.\\w])${term.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(s|es)?(?![\\w(]|\\.\\w)`, "g");
          if (!pattern.test(rest)) continue;
          rest = rest.replace(pattern, " ");
          if (!translated.includes(korean)) problems.push(`${JSON.stringify(english)}: "${term}" should be ${korean} in ${JSON.stringify(translated)}`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }

  it("the extension and the package ship the bundles (package.json l10n, .vscodeignore)", () => {
    assert.equal(readJson("package.json").l10n, "./l10n");
    const ignore = fs.readFileSync(path.join(root, ".vscodeignore"), "utf8").split("\n").map((l) => l.trim());
    assert.ok(ignore.includes("!l10n/**") || ignore.includes("!l10n/*.json"), ".vscodeignore must keep l10n/*.json");
    assert.ok(ignore.includes("!package.nls*.json"), ".vscodeignore must keep package.nls*.json");
  });
});
