/**
 * The one place the runner loads esbuild, so packaging can change where it comes from.
 * esbuild stays outside the bundles (it ships a native binary), and is loaded on first use.
 */
import type * as esbuildTypes from "esbuild";

export type Esbuild = typeof esbuildTypes;

let loaded: Esbuild | undefined;

export function loadEsbuild(): Esbuild {
  // A plain require, on first use, keeps esbuild external in the bundles (scripts/build.mjs marks it so).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require("esbuild") as Esbuild;
  return loaded;
}
