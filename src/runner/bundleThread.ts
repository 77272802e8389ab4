/**
 * The thread that bundles and instruments the user's code (built to dist/runnerBundleThread.js;
 * bundleOffThread.ts keeps one across runs): parsing a program's files for source tracking takes
 * the caller's thread — the extension host's — for tenths of a second, and much longer the first
 * time, while the code is cold.
 */
import { bundleUserCode, type BundleRequest } from "./bundle";
import { serveRequests } from "./process/serviceThread";
import { useTranslations, type Translations } from "./localization";

/** What the caller asks: one bundle, with its messages in the editor's language. */
export interface BundleThreadRequest {
  request: BundleRequest;
  translations?: Translations;
}

serveRequests<BundleThreadRequest>(async ({ request, translations }) => {
  useTranslations(translations);
  return { answer: await bundleUserCode(request) };
});
