// The baseline both the runner and training benches time against: a user's program bundled with
// GradLens's engine and nothing of the runner, so plain `node` runs exactly the user's code.
import * as path from "node:path";
import { buildSync } from "esbuild";

const root = path.resolve(__dirname, "..");

/**
 * Writes `outfile`: `source` (a `.grad.ts` program) bundled with the engine; `wrap` adds code around
 * it; `engine` is another module to import as "gradlens" (the engine with a probe of its own).
 */
export function bundleWithEngine(source: string, sourcefile: string, outfile: string, wrap: { banner?: string; footer?: string; engine?: string } = {}): string {
  buildSync({
    stdin: { contents: source, resolveDir: path.dirname(sourcefile), sourcefile: path.basename(sourcefile), loader: "ts" },
    alias: { gradlens: wrap.engine ?? path.join(root, "src", "engine", "index.ts") },
    define: { __dirname: JSON.stringify(path.dirname(sourcefile)) },
    ...(wrap.banner ? { banner: { js: wrap.banner } } : {}),
    ...(wrap.footer ? { footer: { js: wrap.footer } } : {}),
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "es2022",
    logLevel: "error",
  });
  return outfile;
}
