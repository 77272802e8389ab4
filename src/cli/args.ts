/** Command-line arguments of `gradlens`, parsed by hand (a few flags do not need a library). */
import { DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIME_LIMIT_MS, MIN_MEMORY_LIMIT_MB, resolveLimits, type RunLimits } from "../protocol/limits";

export interface CliArgs {
  command: "graph" | "check" | "help" | "version";
  file?: string;
  format: "table" | "json" | "dot";
  timeoutSeconds?: number;
  memoryMb?: number;
  /** 1-based index of the root graph to print (default: the last). */
  root?: number;
  functionName?: string;
  seed?: number;
  /** For a Markdown FILE: a 1-based line inside the code block to run. */
  line?: number;
}

export class UsageError extends Error {}

export const USAGE = `Usage: gradlens <command> FILE [options]

Commands:
  graph FILE     run FILE and print the computation graph of its root
                 (the value backward() was called on, else the last value)
  check FILE     run a gradient check of every checkable function in FILE
                 (top-level functions whose parameters are Value or Value[];
                 in Python: hinted Value or list[Value], or with a @gradcheck line)
  train FILE     run a training loop and print loss, grad norm and update ratio
                 per backward() call (gradlens train --help for its options)

FILE is a .grad.ts, .ts or .js file, a .py file (run with python3 on PATH), or a
Markdown file with --line N: the code block at that line, after the earlier
Python blocks it builds on.

Options:
  --json             print JSON (graph: { nodes, edges }; check: { ok, functions })
  --dot              print Graphviz DOT (graph only)
  --timeout SECONDS  stop the run after SECONDS (default ${DEFAULT_TIME_LIMIT_MS / 1000})
  --memory MB        stop the run when its process uses more than MB of memory
                     (default ${DEFAULT_MEMORY_LIMIT_MB}); a stopped run still prints what it kept
  --root N           the N-th root graph (graph only; default the last)
  --function NAME    check only the function NAME (check only)
  --seed N           seed of the random points of functions without @gradcheck (check only)
  --line N           the code block at line N of a Markdown FILE
  -h, --help         show this help
  --version          show the version

Exit status: 0 ok; 1 a gradient check failed; 2 the file could not run, or was
stopped (the error is printed on stderr as file:line:column: message; graph
still prints the graph of the last completed backward(), if there is one).`;

export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { command: "help", format: "table" };
  const positional: string[] = [];
  const number = (flag: string, text: string | undefined, integer: boolean): number => {
    const n = Number(text);
    if (text === undefined || text.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case "-h":
      case "--help":
        return { ...args, command: "help" };
      case "--version":
        return { ...args, command: "version" };
      case "--json":
        args.format = "json";
        break;
      case "--dot":
        args.format = "dot";
        break;
      case "--timeout":
        args.timeoutSeconds = number(arg, argv[++i], false);
        if (args.timeoutSeconds <= 0) throw new UsageError("--timeout needs a positive number of seconds");
        break;
      case "--memory":
        args.memoryMb = number(arg, argv[++i], false);
        if (args.memoryMb < MIN_MEMORY_LIMIT_MB) throw new UsageError(`--memory needs at least ${MIN_MEMORY_LIMIT_MB} MB`);
        break;
      case "--root":
        args.root = number(arg, argv[++i], true);
        break;
      case "--function":
        args.functionName = argv[++i];
        if (!args.functionName) throw new UsageError("--function needs a name");
        break;
      case "--seed":
        args.seed = number(arg, argv[++i], true);
        break;
      case "--line":
        args.line = number(arg, argv[++i], true);
        if (args.line < 1) throw new UsageError("--line needs a line number (1 or more)");
        break;
      default:
        if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  if (positional.length === 0) return { ...args, command: "help" };
  const [command, file, ...rest] = positional;
  if (command !== "graph" && command !== "check") throw new UsageError(`unknown command ${command}`);
  if (!file) throw new UsageError(`${command} needs a FILE`);
  if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (command === "check" && args.format === "dot") throw new UsageError("--dot is for graph");
  const markdown = /\.(md|markdown)$/i.test(file);
  if (markdown && args.line === undefined) throw new UsageError(`${file} is Markdown: say which code block with --line N`);
  if (!markdown && args.line !== undefined) throw new UsageError("--line is for Markdown files");
  return { ...args, command, file };
}

/** The run's limits from `--timeout` and `--memory`, with the same defaults as the extension's settings. */
export function limitsOf(args: Pick<CliArgs, "timeoutSeconds" | "memoryMb">): RunLimits {
  return resolveLimits({ timeLimitMs: args.timeoutSeconds !== undefined ? args.timeoutSeconds * 1000 : undefined, memoryLimitMb: args.memoryMb });
}
