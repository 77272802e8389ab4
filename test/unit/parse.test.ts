/**
 * The TypeScript parser GradLens reads programs with: its scopes keep their names in Sets (a script
 * of thousands of top-level declarations parsed in quadratic time), with acorn's own redeclaration
 * rules unchanged; and one document read in one go (its CodeLenses) is parsed once.
 */
import * as assert from "node:assert/strict";
import { parseTypeScript } from "../../src/runner/parse";

const parses = (source: string): boolean => {
  try {
    parseTypeScript(source);
    return true;
  } catch {
    return false;
  }
};

describe("parser", () => {
  it("keeps acorn's redeclaration rules: let, const, class and a module's functions clash; var may repeat", () => {
    assert.equal(parses("let a = 1;\nlet a = 2;\n"), false);
    assert.equal(parses("const a = 1;\nvar a = 2;\n"), false);
    assert.equal(parses("function f() { var q; let q; }"), false);
    assert.equal(parses("class C {}\nlet C = 1;\n"), false);
    assert.equal(parses("try {} catch (e) { let e = 1; }"), false);
    assert.equal(parses("function g() {}\nfunction g() {}\n"), false, "a module's functions are lexical");
    assert.equal(parses("var a = 1;\nvar a = 2;\nfunction k() { var b = 1; var b = 2; return b; }\n"), true);
    assert.equal(parses("try {} catch (e) { var e = 1; }"), true, "a simple catch parameter may be redeclared by var");
    assert.equal(parses("let a = 1;\n{ let a = 2; }\nfunction h(a: number) { let b = a; return b; }\n"), true);
    assert.equal(parses("type T = number;\nlet T = 1;\nenum E { A }\nenum E { B }\n"), true, "TypeScript's own rules stay the plugin's");
  });

  it("reads thousands of top-level declarations, and finds a clash after them", () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `const v${i} = ${i};`);
    const { program } = parseTypeScript(lines.join("\n"));
    assert.equal((program.body as unknown[]).length, 20_000);
    assert.equal(parses(`${lines.join("\n")}\nlet v123 = 0;\n`), false);
  });

  it("parses one text once while a task reads it, and again in the next task", async () => {
    const source = "const x = 1;\nfunction f(a: number): number { return a * x; }\n";
    const first = parseTypeScript(source);
    assert.equal(parseTypeScript(source), first, "the same tree for the same text in the same task");
    assert.notEqual(parseTypeScript(`${source}\n`), first);
    assert.throws(() => parseTypeScript("let = ;"));
    assert.throws(() => parseTypeScript("let = ;"), "a text that does not parse throws each time it is asked");
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.notEqual(parseTypeScript(source), first, "no tree outlives its task");
  });
});
