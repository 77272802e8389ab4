/** How GradLens writes numbers for people: short, and the same in lenses, hovers and inline values. */

/** 7 → "7", 0.49999999 → "0.5", 3.2e-10 → "3.2e-10", NaN → "NaN". */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return "0";
  const magnitude = Math.abs(x);
  if (magnitude >= 1e6 || magnitude < 1e-4) {
    // Exponent form without trailing zeros: 3.20e-10 → 3.2e-10.
    const [mantissa, exponent] = x.toExponential(2).split("e");
    return `${trimZeros(mantissa)}e${exponent.replace("+", "")}`;
  }
  return trimZeros(x.toPrecision(4));
}

function trimZeros(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}
