/**
 * How GradLens writes a number for people — the one formatter, with a named style per place.
 * Non-finite numbers read the same everywhere: "NaN", "Infinity", "-Infinity".
 */

/**
 * - `short`: editor text (lenses, hovers, inline values, diagnostics) — 4 significant digits,
 *   no trailing zeros: 7 → "7", 0.49999999 → "0.5", 3.2e-10 → "3.2e-10".
 * - `drawDot`: the graph view and DOT files, as micrograd's draw_dot writes them (`%.4f`):
 *   7 → "7.0000", exponent form beyond 1e5 or under 1e-4: 123456 → "1.235e+5".
 * - `table`: the CLI's tables — 6 significant digits, no trailing zeros: 1/3 → "0.333333".
 */
export type NumberStyle = "short" | "drawDot" | "table";

export function formatNumber(x: number, style: NumberStyle = "short"): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";
  const magnitude = Math.abs(x);
  switch (style) {
    case "short":
      if (x === 0) return "0";
      // Exponent form without trailing zeros: 3.20e-10 → 3.2e-10.
      if (magnitude >= 1e6 || magnitude < 1e-4) return exponentForm(x, 2);
      // Four digits may still need an exponent (123456 → 1.235e+5): write it the same short way.
      return magnitude >= 1e4 ? exponentForm(x, 3) : trimZeros(x.toPrecision(4));
    case "drawDot":
      if (x === 0) return "0.0000";
      return magnitude >= 1e5 || magnitude < 1e-4 ? x.toExponential(3) : x.toFixed(4);
    case "table":
      if (x === 0) return "0";
      return magnitude >= 1e-4 && magnitude < 1e6 ? String(Number(x.toPrecision(6))) : x.toExponential(4);
  }
}

function exponentForm(x: number, digits: number): string {
  const [mantissa, exponent] = x.toExponential(digits).split("e");
  return `${trimZeros(mantissa)}e${exponent.replace("+", "")}`;
}

function trimZeros(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}
