/** What a run stopped by GradLens says: which limit, where the program was, and what was kept. */
import * as l10n from "@vscode/l10n";
import { formatSeconds, QUIET_RUN_MS, type RunLimits } from "../protocol/limits";

export interface StopFacts {
  kind: "timeout" | "memory" | "cancelled";
  limits: RunLimits;
  /** The user's line the program was at, and the functions it was in (innermost first). */
  line?: number;
  functions?: (string | undefined)[];
  /** How long before the stop the program last printed or completed a backward(). */
  quietMs?: number;
  /** For a hard stop (no word from the program): whether a graph and output were kept. */
  keptGraph?: boolean;
  printed?: boolean;
}

export function describeStop(facts: StopFacts): string {
  if (facts.kind === "cancelled") return l10n.t("the run was cancelled");
  let message =
    facts.kind === "timeout"
      ? l10n.t("stopped after {0} s: the code was still running", formatSeconds(facts.limits.timeLimitMs))
      : l10n.t("stopped: the run used more than its memory limit of {0} MB", facts.limits.memoryLimitMb);
  // Only a run that showed no sign of progress for a while (or ever) looks like an endless loop.
  const quiet = facts.quietMs !== undefined ? facts.quietMs >= Math.min(QUIET_RUN_MS, 0.9 * facts.limits.timeLimitMs) : !facts.keptGraph && !facts.printed;
  if (facts.kind === "timeout" && quiet) message += l10n.t(" (an endless loop?)");
  if (facts.line !== undefined) {
    const names = (facts.functions ?? []).filter((f): f is string => f !== undefined);
    message += names.length > 0 ? l10n.t(" — at line {0}, in {1}", facts.line, names.join(" ← ")) : l10n.t(" — at line {0}", facts.line);
  }
  return message;
}
