/**
 * The analysis thread (dist/analysisThread.js): a big file's CodeLens sites are found here, not on
 * the extension host's thread, which every extension in the window shares (a 6,000-line program
 * took it 130–250 ms per refresh). src/extension/analysis.ts keeps one across refreshes.
 */
import { serveRequests } from "../runner/process/serviceThread";
import { lensSitesOf } from "./lensSites";
import type { LensRequest } from "../protocol/lensSites";

serveRequests<LensRequest>(async ({ text, file, language }) => ({ answer: lensSitesOf(text, file, language) }));
