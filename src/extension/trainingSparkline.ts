/**
 * A gradient's course over training steps as a Unicode sparkline (plain text: nothing a hover's
 * content policy could block), and which parameter groups a hovered name belongs to. No vscode
 * here, so the unit tests run it; trainingHover.ts makes the hover of it.
 */

/** Characters of a sparkline (the steps are bucketed to fit). */
export const SPARK_WIDTH = 40;
const BARS = "▁▂▃▄▅▆▇█";

/**
 * One character per bucket of steps: the bucket's largest value on a log scale between the series'
 * smallest positive and largest values (gradient norms span decades); "·" for no positive value,
 * "!" where a value is not finite.
 */
export function sparkline(values: readonly number[], width = SPARK_WIDTH): string {
  if (values.length === 0) return "";
  const buckets = Math.min(width, values.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v > 0 && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  let out = "";
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * values.length) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * values.length) / buckets));
    let peak = -Infinity;
    let bad = false;
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) bad = true;
      else peak = Math.max(peak, v);
    }
    if (bad) out += "!";
    else if (!(peak > 0)) out += "·";
    else {
      const t = hi > lo ? (Math.log(peak) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : 1;
      out += BARS[Math.min(BARS.length - 1, Math.round(t * (BARS.length - 1)))];
    }
  }
  return out;
}

/** The groups a name belongs to: the group itself, or groups with the name as one of their segments (`w` → `layers[0].w`). */
export function groupsNamed(groups: readonly string[], name: string): string[] {
  const exact = groups.filter((g) => g === name);
  if (exact.length > 0) return exact;
  return groups.filter((g) => g.split(/[^\w$]+/).includes(name));
}

