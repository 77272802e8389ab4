/**
 * The CLI's first act: the run's child process is started before the rest of the CLI (the bundler,
 * the parser, the Python runner) is loaded and set up, so that Node's start-up in the child overlaps
 * that work. main.ts imports this module first, so its top-level code runs before the others'.
 * The run takes the child if it asks for one started the same way (process/warmChild.ts); a child
 * nobody takes (a Python file, a usage error, a code block that is not TypeScript) ends with the CLI.
 */
import { limitsOf, parseArgs } from "./args";
import { languageOfFile } from "../runner/runner";
import { prestartWorker } from "../runner/workerHost";

/** Starts the child for the TypeScript run these arguments ask for; anything else: nothing. */
export function startChildEarly(argv: readonly string[]): void {
  try {
    const args = parseArgs(argv);
    if ((args.command !== "graph" && args.command !== "check") || args.file === undefined) return;
    // A Markdown block's language is known only once the file is read: Python blocks are the common case there.
    if (args.line !== undefined || languageOfFile(args.file) !== "typescript") return;
    prestartWorker(limitsOf(args));
  } catch {
    // A usage error: main() reports it.
  }
}

if (require.main === module) startChildEarly(process.argv.slice(2));
