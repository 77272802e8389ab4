/**
 * Bundles the user's code off the caller's thread when asked to (bundleThread.ts), so the extension
 * host's event loop keeps turning while a program's files are parsed and instrumented; on the
 * caller's thread otherwise, when there is no thread script, or when the thread failed.
 * The thread's answer is checked before it is used, as anything that crossed a boundary is.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { bundleUserCode, type BundleOutcome, type BundleRequest } from "./bundle";
import type { BundleThreadRequest } from "./bundleThread";
import { currentTranslations } from "./localization";
import { ThreadKeeper } from "./process/serviceThread";
import { isInt, isRecord, isString } from "../protocol/guards";

/** A bundling thread with no work for this long is ended (it holds esbuild's service and the parser). */
export const BUNDLE_THREAD_IDLE_MS = 120_000;

/** dist/runnerBundleThread.js beside the running bundle (or a test build's, env override). */
export function bundleThreadPath(): string | undefined {
  const candidates = [process.env.GRADLENS_BUNDLE_THREAD, path.join(__dirname, "runnerBundleThread.js")];
  return candidates.find((c): c is string => typeof c === "string" && c !== "" && existsSync(c));
}

const threads = new ThreadKeeper(bundleThreadPath, BUNDLE_THREAD_IDLE_MS);
let enabled = false;

/**
 * Whether runs bundle on the thread: the extension turns it on (its thread is the one every
 * extension shares); the CLI and the benches leave it off, as their thread has nothing else to do.
 */
export function useBundleThread(on: boolean): void {
  enabled = on;
}

/** How many bundling threads this process has started. */
export function bundleThreadsStarted(): number {
  return threads.started;
}

/** The bundle, and whether a thread made it. */
export async function bundleOffThread(request: BundleRequest): Promise<{ outcome: BundleOutcome; thread: boolean }> {
  const answer = enabled ? await threads.ask({ request, translations: currentTranslations() } satisfies BundleThreadRequest) : undefined;
  if (isBundleOutcome(answer)) return { outcome: answer, thread: true };
  return { outcome: await bundleUserCode(request), thread: false };
}


function isBundleOutcome(x: unknown): x is BundleOutcome {
  if (!isRecord(x)) return false;
  if (x.ok === false) return isRecord(x.error) && isString(x.error.kind) && isString(x.error.message);
  if (x.ok !== true || !isRecord(x.bundle)) return false;
  const { code, map, sourceRoot, registry, untracked } = x.bundle;
  if (!isString(code) || !isString(map) || !isString(sourceRoot) || !isRecord(registry) || !Array.isArray(untracked)) return false;
  const { sites, bindings } = registry;
  return (
    Array.isArray(sites) &&
    sites.every((s) => isRecord(s) && isInt(s.id) && isString(s.file) && isInt(s.line) && isInt(s.column) && isString(s.text)) &&
    Array.isArray(bindings) &&
    bindings.every((b) => isRecord(b) && isInt(b.id) && isString(b.name) && isRecord(b.range)) &&
    untracked.every((u) => isRecord(u) && isString(u.file) && isString(u.reason))
  );
}
