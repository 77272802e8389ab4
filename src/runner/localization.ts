/**
 * The runners' messages in the editor's display language. Runners live outside the `vscode` API (a
 * plain module in the extension host, a worker thread, the CLI), so their messages go through
 * `@vscode/l10n`, which reads the same bundles as `vscode.l10n` (l10n/bundle.l10n.<language>.json).
 * The extension hands its loaded bundle over (`vscode.l10n.bundle`); the host passes it on to the
 * worker. Without one — the CLI, or English — `l10n.t` returns the English text with its arguments.
 */
import * as l10n from "@vscode/l10n";

/** English message → translation, as in a bundle.l10n.<language>.json file. */
export type Translations = Record<string, string>;

let current: Translations | undefined;

/** Messages made from now on use `bundle`; undefined goes back to English. */
export function useTranslations(bundle: Translations | undefined): void {
  current = bundle;
  l10n.config({ contents: bundle ?? {} });
}

/** The bundle in use, to hand to a worker thread. */
export function currentTranslations(): Translations | undefined {
  return current;
}
