/** Number and message formatting for the graph view. */

/** Four decimals like micrograd's draw_dot, switching to exponent form for very large or small numbers. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return "0.0000";
  const magnitude = Math.abs(x);
  if (magnitude >= 1e5 || magnitude < 1e-4) return x.toExponential(3);
  return x.toFixed(4);
}

/** Fills `{0}`, `{1}`, … in a localised string from the extension. */
export function fillIn(template: string, ...args: (string | number)[]): string {
  return template.replace(/\{(\d+)\}/g, (whole, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : whole));
}

export function isNonFinite(x: number): boolean {
  return !Number.isFinite(x);
}
