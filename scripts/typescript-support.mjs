// Editor support for `import { Value } from "gradlens"` in .grad.ts files:
//  - dist/gradlens.d.ts (+ dist/types/*.d.ts): the engine's public API as declarations, emitted by tsc;
//  - node_modules/gradlens-ts-plugin/: the TypeScript server plugin (src/tsPlugin) that resolves
//    "gradlens" to them. VS Code's TypeScript server loads plugins an extension contributes
//    (package.json contributes.typescriptServerPlugins) from the extension's node_modules folder.
import * as esbuild from "esbuild";
import ts from "typescript";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const PLUGIN_NAME = "gradlens-ts-plugin";

/** Writes the declarations into `distDir` and the plugin package into `pluginDir`. */
export async function writeTypeScriptSupport({ root = ".", distDir = join(root, "dist"), pluginDir = join(root, "node_modules", PLUGIN_NAME), minify = false } = {}) {
  const typesDir = join(distDir, "types");
  rmSync(typesDir, { recursive: true, force: true });
  const program = ts.createProgram([resolve(root, "src/engine/index.ts")], {
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: resolve(root, "src/engine"),
    outDir: typesDir,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    strict: true,
    skipLibCheck: true,
    stripInternal: true, // members marked @internal stay out of users' completions
    types: [],
  });
  const emitted = program.emit();
  const errors = ts.getPreEmitDiagnostics(program).concat(emitted.diagnostics).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" }));
  writeFileSync(join(distDir, "gradlens.d.ts"), '/** GradLens\'s autograd engine, as `import { Value } from "gradlens"` sees it in .grad.ts files. */\nexport * from "./types/index";\n');

  mkdirSync(pluginDir, { recursive: true });
  writeFileSync(join(pluginDir, "package.json"), JSON.stringify({ name: PLUGIN_NAME, version: "1.0.0", private: true, main: "index.js" }, null, 2) + "\n");
  await esbuild.build({
    entryPoints: [resolve(root, "src/tsPlugin/index.ts")],
    outfile: join(pluginDir, "index.js"),
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "es2022",
    minify,
    external: ["typescript"],
    logLevel: "warning",
  });
  // Node's declarations for grad files (they run on Node): @types/node and the one package it imports.
  for (const types of ["@types/node", "undici-types"]) {
    rmSync(join(pluginDir, "node_modules", types), { recursive: true, force: true });
    cpSync(join(root, "node_modules", types), join(pluginDir, "node_modules", types), { recursive: true, filter: (f) => !f.endsWith(".md") || f.endsWith("LICENSE.md") });
  }
  return { declarationFile: join(distDir, "gradlens.d.ts"), pluginDir };
}
