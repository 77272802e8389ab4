/**
 * The runners' own messages in the display language: made in the runner, in its worker thread and in
 * the Python tracer, with the Korean bundle handed over as the extension does (`useTranslations`).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runFile } from "../../src/runner";
import { useTranslations } from "../../src/runner/localization";
import { resolvePythonPath, runPython } from "../../src/runner/python";
import { tracerTemplates, translateTracerMessage } from "../../src/runner/python/tracerMessages";
import { repoRoot, useBuiltWorker } from "./runnerSupport";

const korean = JSON.parse(fs.readFileSync(path.join(repoRoot, "l10n", "bundle.l10n.ko.json"), "utf8")) as Record<string, string>;

/** Every `said("…")` template in python/*.py, as Python reads the string literal. */
function pythonTemplates(): string[] {
  const dir = path.join(repoRoot, "python");
  const templates = new Set<string>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".py"))) {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    for (const match of text.matchAll(/\bsaid\(\s*"((?:[^"\\]|\\.)*)"/g)) templates.add(JSON.parse(`"${match[1]}"`) as string);
  }
  return [...templates].sort();
}

describe("runner messages in the display language", () => {
  let scratch: string;
  before(() => {
    useBuiltWorker();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gradlens-l10n-"));
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));
  // Other suites in this process expect English.
  afterEach(() => useTranslations(undefined));

  it("a message made in the worker thread (the origin of a NaN) uses the bundle handed to the runner", async () => {
    const file = path.join(scratch, "nan.grad.ts");
    fs.writeFileSync(file, 'import { Value } from "gradlens";\nconst x = new Value(0);\nconst bad = x.log();\nbad.backward();\n');
    const english = await runFile(file);
    assert.equal(english.nonFinite?.message, "log(0) is -Infinity: the logarithm of 0 is minus infinity");
    useTranslations(korean);
    const translated = await runFile(file);
    assert.equal(translated.nonFinite?.message, "log(0)은 -Infinity입니다: 0의 로그는 음의 무한대입니다");
    assert.equal(translated.nonFinite?.position?.line, 3);
  });

  it("a message made on the host side (the time limit) is translated too", async () => {
    const file = path.join(scratch, "loop.grad.ts");
    fs.writeFileSync(file, "for (;;) {}\n");
    useTranslations(korean);
    const result = await runFile(file, { timeLimitMs: 300 });
    assert.equal(result.error?.kind, "timeout");
    assert.match(result.error?.message ?? "", /^0\.3초 후에 멈췄습니다: 코드가 아직 실행 중이었습니다/);
  });

  it("every template the Python tracer says has an entry in tracerMessages.ts, and no entry is stale", () => {
    const used = pythonTemplates();
    assert.ok(used.length >= 10, `only ${used.length} said() templates found in python/`);
    const known = Object.keys(tracerTemplates).sort();
    assert.deepEqual(used.filter((t) => !known.includes(t)), [], "templates without a translation entry");
    assert.deepEqual(known.filter((t) => !used.includes(t)), [], "entries no Python code says");
  });

  it("a tracer message is translated part by part, and kept in English when a part is unknown", () => {
    const parts = [["'{0}' is not defined", "loss"], [" — this code block uses a name that neither it nor an earlier block of the file defines (is it a fragment of a larger program?)"]];
    assert.equal(translateTracerMessage(parts), "'loss' is not defined — this code block uses a name that neither it nor an earlier block of the file defines (is it a fragment of a larger program?)");
    useTranslations(korean);
    assert.equal(translateTracerMessage(parts), "'loss'이(가) 정의되지 않았습니다 — 이 코드 블록은 자신도, 파일의 앞 블록도 정의하지 않은 이름을 씁니다(더 큰 프로그램의 일부인가요?)");
    assert.equal(translateTracerMessage([["a template from a newer tracer {0}", "x"]]), undefined);
  });

  it("a Python error reaches the user in Korean", async function () {
    if (!(await resolvePythonPath(undefined))) this.skip();
    const file = path.join(scratch, "exit.py");
    fs.writeFileSync(file, "import sys\nsys.exit(4)\n");
    useTranslations(korean);
    const result = await runPython({ file }, {});
    assert.equal(result.error?.kind, "runtime");
    assert.equal(result.error?.message, "코드가 sys.exit(4)을 호출했습니다");
    useTranslations(undefined);
    const english = await runPython({ file }, {});
    assert.equal(english.error?.message, "the code called sys.exit(4)");
  });
});
