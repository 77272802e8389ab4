/**
 * Turns a `.grad.ts` file (with its relative imports) or a snippet into one CommonJS script for
 * the worker: esbuild bundles and strips types, our instrumenter adds source tracking to each user
 * file on the way in, and the result carries a source map back to the user's own lines.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import type { Plugin, Loader, Message } from "esbuild";
import { loadEsbuild } from "./esbuildLoader";
import { instrumentSource, SiteRegistry, type BindingDeclaration, type SourceOffset } from "./instrument";
import { placeInFile } from "./snippetOffset";
import type { RunError, SourceSite } from "../protocol/result";
import * as l10n from "@vscode/l10n";

/** The specifier user code imports the engine by; the worker provides it. */
export const ENGINE_SPECIFIER = "gradlens";

export interface BundleRequest {
  /** The file to run, or the snippet and where it came from. */
  entry: { file: string } | { code: string; origin: SourceOffset };
  sourceTracking: boolean;
  /** Top-level functions of the entry file to hand to the gradient checker. */
  registerFunctions?: { name: string; hoisted: boolean }[];
}

export interface Bundle {
  code: string;
  /** esbuild's source map of `code`, sources resolved to absolute paths. */
  map: string;
  /** The directory the map's relative sources are relative to. */
  sourceRoot: string;
  /** The sites and bindings the instrumenter registered (plain data: a bundle may come from another thread). */
  registry: { sites: SourceSite[]; bindings: BindingDeclaration[] };
  /** Files that ran as written because our parser could not read them (the run still works). */
  untracked: { file: string; reason: string }[];
}

export type BundleOutcome = { ok: true; bundle: Bundle } | { ok: false; error: RunError };

const LOADERS: Record<string, Loader> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx" };

export async function bundleUserCode(request: BundleRequest): Promise<BundleOutcome> {
  const esbuild = loadEsbuild();
  const registry = new SiteRegistry();
  const untracked: Bundle["untracked"] = [];
  const entryFile = "file" in request.entry ? path.resolve(request.entry.file) : path.resolve(request.entry.origin.file);
  const workingDir = path.dirname(entryFile);

  const instrument = (source: string, offset: SourceOffset, isEntry: boolean): string => {
    if (!request.sourceTracking) return source;
    try {
      const { code, map } = instrumentSource(source, registry, { offset, registerFunctions: isEntry ? request.registerFunctions : undefined, entry: isEntry });
      // esbuild composes an inline input source map with its own, so positions map back to `source`.
      return `${code}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(map).toString("base64")}\n`;
    } catch (error) {
      // Let esbuild report real syntax errors with its own messages; anything else runs untracked.
      untracked.push({ file: offset.file, reason: error instanceof Error ? error.message : String(error) });
      return source;
    }
  };

  const trackUserFiles: Plugin = {
    name: "gradlens-source-tracking",
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const source = await readFile(args.path, "utf8");
        const isEntry = path.resolve(args.path) === entryFile && "file" in request.entry;
        const contents = instrument(source, { file: args.path, line: 1, column: 1 }, isEntry);
        return { contents, loader: LOADERS[path.extname(args.path)] ?? "ts" };
      });
    },
  };

  const outfile = path.join(workingDir, "__gradlens_bundle__.js");
  try {
    const result = await esbuild.build({
      ...("file" in request.entry
        ? { entryPoints: [entryFile] }
        : {
            stdin: {
              contents: instrument(request.entry.code, request.entry.origin, true),
              sourcefile: path.basename(entryFile),
              resolveDir: workingDir,
              loader: LOADERS[path.extname(entryFile)] === "js" ? "js" : "ts",
            },
          }),
      bundle: true,
      write: false,
      outfile,
      format: "cjs",
      platform: "node",
      target: "es2022",
      sourcemap: "external",
      sourcesContent: false,
      external: [ENGINE_SPECIFIER],
      // User files are modules, and modules are strict; the worker runs the bundle as a plain script.
      banner: { js: '"use strict";' },
      logLevel: "silent",
      absWorkingDir: workingDir,
      plugins: [trackUserFiles],
    });
    const code = result.outputFiles.find((f) => f.path.endsWith(".js"))?.text ?? "";
    const map = result.outputFiles.find((f) => f.path.endsWith(".map"))?.text ?? '{"version":3,"sources":[],"mappings":""}';
    return { ok: true, bundle: { code, map, sourceRoot: workingDir, registry: { sites: registry.sites, bindings: registry.bindings }, untracked } };
  } catch (error) {
    const messages = (error as { errors?: Message[] }).errors;
    if (Array.isArray(messages) && messages.length > 0) return { ok: false, error: syntaxError(messages[0], workingDir, request) };
    return { ok: false, error: { kind: "internal", message: l10n.t("could not prepare the code: {0}", error instanceof Error ? error.message : String(error)) } };
  }
}

/** esbuild's first error, at the user's line and column (1-based; snippets shifted to their place in the file). */
function syntaxError(message: Message, workingDir: string, request: BundleRequest): RunError {
  const location = message.location;
  if (!location) return { kind: "syntax", message: message.text };
  if ("code" in request.entry && (location.file === "<stdin>" || path.resolve(workingDir, location.file) === path.resolve(request.entry.origin.file))) {
    const { origin } = request.entry;
    return {
      kind: "syntax",
      message: message.text,
      position: { file: origin.file, ...placeInFile(origin, location.line, location.column) },
    };
  }
  return { kind: "syntax", message: message.text, position: { file: path.resolve(workingDir, location.file), line: location.line, column: location.column + 1 } };
}
