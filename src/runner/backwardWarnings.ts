/**
 * The two classic learner bugs around backward(), caught as they happen: calling it twice on the same
 * graph without zeroing (micrograd: 36 → 108), and a training loop that never resets the parameters'
 * grads, so each step adds to the last one's. Both show as leaves that already hold a grad when
 * backward() starts: the engine's own backward() notes the first-made such leaf as it walks; a
 * learner's class is walked before its backward() runs, so only the first few calls per call site
 * are looked at, and a 1,000-step loop pays for three walks.
 */
import * as l10n from "@vscode/l10n";
import { staleLeafOfLastBackward } from "../engine/value";

const CALLS_WATCHED_PER_SITE = 3;

export interface BackwardWarning {
  kind: "double-backward" | "grads-not-reset";
  message: string;
  siteId: number;
}

export class BackwardWatch {
  readonly warnings: BackwardWarning[] = [];
  private readonly seenRoots = new WeakSet<object>();
  private readonly watched = new Map<number, number>();
  private readonly warned = new Set<string>();
  private anyBackward = false;

  /**
   * Called at each `root.backward()` at `site`; `staleLeaf` gives a leaf that held a grad when it
   * began (by default the engine's note from the backward() that just ran; a learner's class walks
   * its own graph right before its backward() runs).
   */
  check(root: object, site: number, staleLeaf: () => { label?: string; grad: number } | undefined = engineStaleLeaf): void {
    const calls = this.watched.get(site) ?? 0;
    const again = this.seenRoots.has(root);
    this.seenRoots.add(root);
    const first = !this.anyBackward;
    this.anyBackward = true;
    if (calls >= CALLS_WATCHED_PER_SITE || first) {
      this.watched.set(site, calls + 1);
      return;
    }
    this.watched.set(site, calls + 1);
    let stale: { label?: string; grad: number } | undefined;
    try {
      stale = staleLeaf();
    } catch {
      return; // a value GradLens cannot read: no warning, the user's backward() goes on
    }
    if (!stale) return;
    const kind = again ? "double-backward" : "grads-not-reset";
    const key = `${kind}:${site}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warnings.push({ kind, message: backwardWarningMessage(kind, stale.label, stale.grad), siteId: site });
  }
}

/** The engine's note from the backward() that just ran: its first-made leaf that held a grad, and that grad. */
function engineStaleLeaf(): { label?: string; grad: number } | undefined {
  const stale = staleLeafOfLastBackward();
  return stale && { label: stale.leaf.label, grad: stale.grad };
}

/** The warning's words, for both runners (the Python tracer sends kind, leaf name and grad). */
export function backwardWarningMessage(kind: BackwardWarning["kind"], leaf: string | undefined, grad: number): string {
  const name = leaf || l10n.t("an input");
  return kind === "double-backward"
    ? l10n.t("backward() ran again on the same graph without zeroing the grads: they add up ({0}.grad was already {1}); zero them first (zeroGrad)", name, String(grad))
    : l10n.t("the grads were not reset since the last backward(): this step adds to the previous one ({0}.grad was already {1}); set p.grad = 0 for every parameter after each update", name, String(grad));
}
