/**
 * Editor support for `import { Value } from "gradlens"`: the generated declarations and the
 * TypeScript server plugin, loaded into the real TypeScript language service.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { repoRoot } from "./runnerSupport";

const SAMPLE = `import { Value, gradcheck } from "gradlens";

/** @gradcheck x=2 */
export function square(x: Value): Value {
  return x.mul(x);
}

const x = new Value(3);
const y = square(x);
y.backward();
const check = gradcheck((v) => square(v as Value), [2]);
console.log(x.grad, check.ok);
x.
`;

/** What examples/microgpt.grad.ts does with Node: read a file next to it. */
const NODE_SAMPLE = `import { readFileSync } from "fs";
import { join } from "path";
import { Value } from "gradlens";

const docs = readFileSync(join(__dirname, "names.txt"), "utf8")
  .split("\\n")
  .map((line) => line.trim());
console.log(new Value(docs.length).data, process.argv.length);
`;

function languageService(sampleFile: string, text = SAMPLE): { service: ts.LanguageService; host: ts.LanguageServiceHost } {
  const options: ts.CompilerOptions = { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, types: [], lib: ["lib.es2022.d.ts", "lib.dom.d.ts"] };
  const read = (file: string) => (file === sampleFile ? text : ts.sys.readFile(file));
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => options,
    getScriptFileNames: () => [sampleFile],
    getScriptVersion: () => "1",
    getScriptSnapshot: (file) => {
      const text = read(file);
      return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
    },
    getCurrentDirectory: () => path.dirname(sampleFile),
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (file) => file === sampleFile || ts.sys.fileExists(file),
    readFile: read,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
  };
  return { service: ts.createLanguageService(host, ts.createDocumentRegistry()), host };
}

describe("runner: TypeScript plugin for the \"gradlens\" import", function () {
  this.timeout(60_000);
  const out = path.join(repoRoot, "out", "test-ts-plugin");
  // Outside the repository, so nothing but the plugin can resolve "gradlens".
  const sampleFile = path.join(out, "project", "sample.grad.ts");
  let pluginDir = "";

  before(async () => {
    const support = (await import(pathToFileURL(path.join(repoRoot, "scripts", "typescript-support.mjs")).href)) as {
      writeTypeScriptSupport(o: { root: string; distDir: string; pluginDir: string }): Promise<{ pluginDir: string }>;
    };
    ({ pluginDir } = await support.writeTypeScriptSupport({ root: repoRoot, distDir: path.join(out, "dist"), pluginDir: path.join(out, "node_modules", "gradlens-ts-plugin") }));
  });

  const importErrors = (service: ts.LanguageService) => service.getSemanticDiagnostics(sampleFile).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));

  it("without the plugin, the import is an error (the situation the plugin fixes)", () => {
    const { service } = languageService(sampleFile);
    assert.ok(importErrors(service).some((m) => /Cannot find module 'gradlens'/.test(m)));
  });

  it("with the plugin, the import resolves: no diagnostics, types flow through", () => {
    const { service, host } = languageService(sampleFile);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the plugin is a CommonJS package, loaded as tsserver loads it
    const init = require(pluginDir) as (modules: { typescript: typeof ts }) => ts.server.PluginModule;
    const plugin = init({ typescript: ts });
    const patched = plugin.create({ languageService: service, languageServiceHost: host, config: {}, project: undefined as unknown as ts.server.Project, serverHost: undefined as unknown as ts.server.ServerHost });
    const diagnostics = importErrors(patched).filter((m) => !/Identifier expected/.test(m));
    assert.deepEqual(diagnostics, []);
    const resolved = patched.getProgram()!.getSourceFiles().map((f) => f.fileName);
    assert.ok(resolved.includes(path.join(out, "dist", "gradlens.d.ts").split(path.sep).join("/")) || resolved.some((f) => f.endsWith("dist/gradlens.d.ts")));
    const quickInfo = patched.getQuickInfoAtPosition(sampleFile, SAMPLE.indexOf("square(x)") + 1);
    assert.match(ts.displayPartsToString(quickInfo?.displayParts), /square\(x: Value\): Value/);
  });

  it("gives grad files Node's types (fs, path, __dirname) when the project has none of its own", () => {
    // In a folder with no node_modules above it, so only the plugin can provide @types/node.
    const nodeSample = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gradlens-ts-")), "names.grad.ts");
    const { service, host } = languageService(nodeSample, NODE_SAMPLE);
    const errors = (s: ts.LanguageService) => s.getSemanticDiagnostics(nodeSample).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    // Without the plugin: the five errors the editor showed on examples/microgpt.grad.ts.
    assert.ok(errors(service).some((m) => /Cannot find module 'fs'|Cannot find name '__dirname'/.test(m)), errors(service).join("\n"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
    const init = require(pluginDir) as (modules: { typescript: typeof ts }) => ts.server.PluginModule;
    const patched = init({ typescript: ts }).create({ languageService: service, languageServiceHost: host, config: { declarationFile: path.join(out, "dist", "gradlens.d.ts") }, project: undefined as unknown as ts.server.Project, serverHost: undefined as unknown as ts.server.ServerHost });
    assert.deepEqual(errors(patched), []);
  });

  it("completes Value's members, without the engine's internals", () => {
    const { service, host } = languageService(sampleFile);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
    const init = require(pluginDir) as (modules: { typescript: typeof ts }) => ts.server.PluginModule;
    const patched = init({ typescript: ts }).create({ languageService: service, languageServiceHost: host, config: {}, project: undefined as unknown as ts.server.Project, serverHost: undefined as unknown as ts.server.ServerHost });
    const completions = patched.getCompletionsAtPosition(sampleFile, SAMPLE.lastIndexOf("x.") + 2, {});
    const names = new Set(completions?.entries.map((e) => e.name));
    for (const member of ["data", "grad", "backward", "mul", "add", "pow", "exp", "log", "relu", "tanh", "label"]) assert.ok(names.has(member), `completion ${member}`);
    assert.equal(names.has("walkStamp"), false);
  });
});
