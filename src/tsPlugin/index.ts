/**
 * A TypeScript server plugin: in the editor, `import { Value } from "gradlens"` resolves to the
 * declarations of GradLens's engine (dist/gradlens.d.ts), so `.grad.ts` files get no red squiggle
 * and complete `Value`'s members. It only steps in when normal module resolution finds nothing,
 * so a project with its own "gradlens" (a path mapping, a package) keeps it.
 *
 * Grad files run on Node (`fs`, `path`, `__dirname`, `process`), so a project with grad files also
 * gets Node's declarations — the copy of @types/node shipped beside the plugin — unless the project
 * already resolves its own.
 *
 * Built by scripts/typescript-support.mjs into node_modules/gradlens-ts-plugin/ (where VS Code's
 * TypeScript server looks for plugins an extension contributes).
 */
import * as path from "node:path";
import type * as ts from "typescript";
import { isGradFileName } from "../analysis/gradFile";

const MODULE_NAME = "gradlens";

interface PluginConfig {
  /** Where the declarations are, for tests; default: the extension's dist/gradlens.d.ts. */
  declarationFile?: string;
}


function init(modules: { typescript: typeof ts }): ts.server.PluginModule {
  const typescript = modules.typescript;
  let config: PluginConfig = {};

  function create(info: ts.server.PluginCreateInfo): ts.LanguageService {
    config = { ...config, ...(info.config as PluginConfig | undefined) };
    const declarationFile = () => config.declarationFile ?? path.resolve(__dirname, "..", "..", "dist", "gradlens.d.ts");
    const host = info.languageServiceHost;
    const engineModule = (): ts.ResolvedModuleFull => ({
      resolvedFileName: declarationFile(),
      extension: typescript.Extension.Dts,
      isExternalLibraryImport: true,
    });

    const originalLiterals = host.resolveModuleNameLiterals?.bind(host);
    const originalNames = host.resolveModuleNames?.bind(host);
    const resolveDefault = (name: string, containingFile: string, options: ts.CompilerOptions) =>
      typescript.resolveModuleName(name, containingFile, options, {
        fileExists: (f) => (host.fileExists ? host.fileExists(f) : typescript.sys.fileExists(f)),
        readFile: (f) => (host.readFile ? host.readFile(f) : typescript.sys.readFile(f)),
      });

    host.resolveModuleNameLiterals = (literals, containingFile, redirectedReference, options, containingSourceFile, reusedNames) => {
      const resolved = originalLiterals
        ? originalLiterals(literals, containingFile, redirectedReference, options, containingSourceFile, reusedNames)
        : literals.map((l) => resolveDefault(l.text, containingFile, options));
      return resolved.map((r, i) => (literals[i].text === MODULE_NAME && !r.resolvedModule ? { resolvedModule: engineModule() } : r));
    };
    if (originalNames) {
      host.resolveModuleNames = (names, containingFile, reusedNames, redirectedReference, options, containingSourceFile) => {
        const resolved = originalNames(names, containingFile, reusedNames, redirectedReference, options, containingSourceFile);
        return resolved.map((r, i) => (names[i] === MODULE_NAME && !r ? engineModule() : r));
      };
    }
    // Node's declarations as one more root file, for projects with grad files and no @types/node of their own.
    const nodeTypesFile = path.resolve(__dirname, "node_modules", "@types", "node", "index.d.ts");
    const originalFileNames = host.getScriptFileNames.bind(host);
    const needsNodeTypes = (files: readonly string[]): boolean => {
      const gradFile = files.find(isGradFileName);
      if (gradFile === undefined || files.includes(nodeTypesFile) || !typescript.sys.fileExists(nodeTypesFile)) return false;
      const own = typescript.resolveTypeReferenceDirective("node", gradFile, host.getCompilationSettings(), {
        fileExists: (f) => (host.fileExists ? host.fileExists(f) : typescript.sys.fileExists(f)),
        readFile: (f) => (host.readFile ? host.readFile(f) : typescript.sys.readFile(f)),
        directoryExists: (d) => (host.directoryExists ? host.directoryExists(d) : typescript.sys.directoryExists(d)),
      });
      return own.resolvedTypeReferenceDirective === undefined;
    };
    host.getScriptFileNames = () => {
      const files = originalFileNames();
      return needsNodeTypes(files) ? [...files, nodeTypesFile] : files;
    };
    info.project?.projectService?.logger?.info(`gradlens-ts-plugin: "${MODULE_NAME}" resolves to ${declarationFile()} when nothing else provides it; Node's types from ${nodeTypesFile}`);
    return info.languageService;
  }

  return {
    create,
    onConfigurationChanged(next: PluginConfig) {
      config = { ...config, ...next };
    },
  };
}

export = init;
