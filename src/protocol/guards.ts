/**
 * The type guards the readers of other processes' and threads' output are written with: nothing
 * that crosses a boundary is cast, each field is checked with these.
 */

/** An object with fields (not null, not an array). */
export const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
export const isString = (x: unknown): x is string => typeof x === "string";
export const isNumber = (x: unknown): x is number => typeof x === "number";
export const isInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x);
export const isArrayOf = <T>(x: unknown, item: (y: unknown) => y is T): x is T[] => Array.isArray(x) && x.every(item);
