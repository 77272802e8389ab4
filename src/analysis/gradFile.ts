/**
 * A "grad file": TypeScript or JavaScript written for GradLens's own engine (`import { Value } from
 * "gradlens"`), named `*.grad.ts` or `*.grad.js` — defined here once. The extension, the TypeScript
 * server plugin and package.json's activation event derive from these endings; package.json's `when`
 * clauses read the context key instead (test/unit/manifest.test.ts checks both).
 */
export const gradFileEndings = [".grad.ts", ".grad.js"] as const;

/** The endings as one glob, for document selectors and `workspaceContains`. */
export const gradFileGlob = `**/*{${gradFileEndings.join(",")}}`;

export function isGradFileName(fileName: string): boolean {
  return gradFileEndings.some((ending) => fileName.endsWith(ending));
}

/** True while the active editor shows a grad file. */
export const gradFileContextKey = "gradlens.gradFile";
