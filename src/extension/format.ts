/** How GradLens writes numbers in the editor: short, and the same in lenses, hovers and inline values. */
import { formatNumber as format } from "../format/number";

/** 7 → "7", 0.49999999 → "0.5", 3.2e-10 → "3.2e-10", NaN → "NaN" (the "short" style of src/format/number.ts). */
export const formatNumber = (x: number): string => format(x, "short");
