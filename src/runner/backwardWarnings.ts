/**
 * The two classic learner bugs around backward(), caught as they happen: calling it twice on the same
 * graph without zeroing (micrograd: 36 → 108), and a training loop that never resets the parameters'
 * grads, so each step adds to the last one's. Both show as leaves that already hold a grad when
 * backward() starts. Only the first few calls per call site are looked at (a walk of the graph each),
 * so a 1,000-step loop pays for three.
 */
import * as l10n from "@vscode/l10n";
import { Value, topologicalOrder } from "../engine";
import { anyLeaf } from "../engine/value";

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
   * Called right before `root.backward()` runs at `site`; `staleLeaf` finds a leaf that already holds
   * a grad (a learner's own class walks its own graph).
   */
  before(root: object, site: number, staleLeaf: () => { label?: string; grad: number } | undefined = () => engineStaleLeaf(root as Value)): void {
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

const holdsGrad = (leaf: Value): boolean => leaf.grad !== 0;

/** The first leaf in topological order that holds a grad (the one the warning names); most graphs have none, found by a cheaper walk. */
function engineStaleLeaf(root: Value): { label?: string; grad: number } | undefined {
  if (!anyLeaf(root, holdsGrad)) return undefined;
  for (const v of topologicalOrder(root)) if (v.childCount === 0 && v.grad !== 0) return { label: v.label, grad: v.grad };
  return undefined;
}

/** The warning's words, for both runners (the Python tracer sends kind, leaf name and grad). */
export function backwardWarningMessage(kind: BackwardWarning["kind"], leaf: string | undefined, grad: number): string {
  const name = leaf || l10n.t("an input");
  return kind === "double-backward"
    ? l10n.t("backward() ran again on the same graph without zeroing the grads: they add up ({0}.grad was already {1}); zero them first (zeroGrad)", name, String(grad))
    : l10n.t("the grads were not reset since the last backward(): this step adds to the previous one ({0}.grad was already {1}); set p.grad = 0 for every parameter after each update", name, String(grad));
}
