/** Op checks travel with site ids; callers give them source positions (one place for both runners). */
import type { OpCheckResult, SourcePosition } from "../protocol/result";

export function placeOps(ops: readonly OpCheckResult[], sitePosition: (id: number) => SourcePosition | undefined): OpCheckResult[] {
  return ops.map((op) => ({ ...op, ...positioned(sitePosition(op.siteId)) }));
}

export const positioned = (position: SourcePosition | undefined): { position?: SourcePosition } => (position ? { position } : {});
