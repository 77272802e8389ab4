/** Turning whatever user code throws into a message and stack frames, without ever throwing. */
import { inspect } from "node:util";
import * as l10n from "@vscode/l10n";
import type { BundleFrame } from "./protocol";

/** The file name the bundled user code runs under, so its frames can be told apart. */
export const BUNDLE_FILENAME = "gradlens-user-code.js";

/** Hints after a JavaScript error message; functions, so each is in the language of the run. */
const HINTS: [RegExp, () => string][] = [
  [/Maximum call stack size exceeded/, () => l10n.t(" (a function that keeps calling itself?)")],
  [/is not a function/, () => l10n.t(" (check the name of the method or function)")],
  [/Cannot read properties of undefined/, () => l10n.t(" (a variable or array element that has no value yet?)")],
];

export function describeThrown(thrown: unknown): string {
  try {
    if (thrown instanceof Error) {
      const name = String(thrown.name);
      const message = withoutInstrumentation(String(thrown.message));
      const hint = HINTS.find(([pattern]) => pattern.test(message))?.[1]() ?? "";
      return `${name === "Error" ? "" : `${name}: `}${message}${hint}`;
    }
    return l10n.t("the code threw {0}, which is not an Error", inspect(thrown, { depth: 1, getters: false }).slice(0, 200));
  } catch {
    return l10n.t("the code threw something that cannot be described");
  }
}

/**
 * V8 quotes the failing call's source, which is the instrumented one: `__gl_s(...).missing is not a
 * function`. The wrapper is GradLens's, not the user's, so it is shown as "…" instead.
 */
const HELPER_CALL = /__gl_[a-z]+\(\.\.\.\)/g;
function withoutInstrumentation(message: string): string {
  return message.replace(HELPER_CALL, "…");
}

const FRAME = new RegExp(`^\\s*at (?:(.*?) \\()?${BUNDLE_FILENAME.replace(/\./g, "\\.")}:(\\d+):(\\d+)\\)?$`);

export function framesOf(thrown: unknown): BundleFrame[] {
  try {
    const stack = thrown instanceof Error ? thrown.stack : undefined;
    if (typeof stack !== "string") return [];
    const frames: BundleFrame[] = [];
    for (const line of stack.split("\n")) {
      const match = FRAME.exec(line);
      if (match) frames.push({ functionName: match[1] && !match[1].includes("<anonymous>") ? match[1] : undefined, line: Number(match[2]), column: Number(match[3]) });
    }
    return frames;
  } catch {
    return [];
  }
}
