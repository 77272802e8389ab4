/** Number and message formatting for the graph view. */

import { formatNumber as format } from "../format/number";

/** Numbers in the graph view: micrograd's draw_dot style (src/format/number.ts). */
export const formatNumber = (x: number): string => format(x, "drawDot");

/** Fills `{0}`, `{1}`, … in a localised string from the extension. */
export function fillIn(template: string, ...args: (string | number)[]): string {
  return template.replace(/\{(\d+)\}/g, (whole, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : whole));
}

export function isNonFinite(x: number): boolean {
  return !Number.isFinite(x);
}
