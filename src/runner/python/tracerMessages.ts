/**
 * The Python tracer's own messages in the display language. The tracer (python/*.py) writes English
 * and, beside it, the parts it was made of: `[template, ...args]` per part, templates with {0}-style
 * holes (`said()` in python/gradlens_messages.py). Each template is translated here with a literal
 * `l10n.t` call, so `npm run l10n:export` puts it in the bundles; a template this table does not know
 * (a newer tracer) leaves the English message as it is.
 */
import * as l10n from "@vscode/l10n";
import type { ConsoleLine, RunError, RunNote } from "../../protocol/result";

type Render = (args: string[]) => string;

/** Template (exactly as in the Python source) → its translation. */
export const tracerTemplates: Record<string, Render> = {
  "'{0}' is not defined": (a) => l10n.t("'{0}' is not defined", a[0]),
  " — this code block uses a name that neither it nor an earlier block of the file defines (is it a fragment of a larger program?)": () =>
    l10n.t(" — this code block uses a name that neither it nor an earlier block of the file defines (is it a fragment of a larger program?)"),
  "RecursionError: the recursion went too deep. A recursive topological sort in backward() fails on deep graphs; an iterative one (with a stack) does not": () =>
    l10n.t("RecursionError: the recursion went too deep. A recursive topological sort in backward() fails on deep graphs; an iterative one (with a stack) does not"),
  "math domain error: a math function got a number outside its domain (for example log(0), log of a negative number, or sqrt(-1))": () =>
    l10n.t("math domain error: a math function got a number outside its domain (for example log(0), log of a negative number, or sqrt(-1))"),
  "ZeroDivisionError: {0} (Python raises where JavaScript would give Infinity)": (a) =>
    l10n.t("ZeroDivisionError: {0} (Python raises where JavaScript would give Infinity)", a[0]),
  "OverflowError: the number got too large ({0})": (a) => l10n.t("OverflowError: the number got too large ({0})", a[0]),
  "the module '{0}' is not installed for this Python ({1}); install it, or choose another interpreter with the gradlens.pythonPath setting": (a) =>
    l10n.t("the module '{0}' is not installed for this Python ({1}); install it, or choose another interpreter with the gradlens.pythonPath setting", a[0], a[1]),
  "EOFError: input() has nothing to read — GradLens runs the code without a keyboard": () =>
    l10n.t("EOFError: input() has nothing to read — GradLens runs the code without a keyboard"),
  " — last at line {0}": (a) => l10n.t(" — last at line {0}", a[0]),
  "stopped after {0} s: the code was still running (an endless loop?)": (a) => l10n.t("stopped after {0} s: the code was still running (an endless loop?)", a[0]),
  "stopped: the code used more than the memory limit of {0} MB": (a) => l10n.t("stopped: the code used more than the memory limit of {0} MB", a[0]),
  "the code called sys.exit({0})": (a) => l10n.t("the code called sys.exit({0})", a[0]),
  "the graph of {0} has more than {1} nodes, the limit": (a) => l10n.t("the graph of {0} has more than {1} nodes, the limit", a[0], a[1]),
  "stopped: the graph is too large to read back within the memory limit of {0} MB": (a) =>
    l10n.t("stopped: the graph is too large to read back within the memory limit of {0} MB", a[0]),
  "GradLens could not read the values back: {0}": (a) => l10n.t("GradLens could not read the values back: {0}", a[0]),
  "{0} could not be found when the file ran": (a) => l10n.t("{0} could not be found when the file ran", a[0]),
  "{0} raised {1} in Python ({2}); JavaScript, and GradLens's TypeScript engine, would give {3}": (a) =>
    l10n.t("{0} raised {1} in Python ({2}); JavaScript, and GradLens's TypeScript engine, would give {3}", a[0], a[1], a[2], a[3]),
  "the graph of {0} has a cycle: a value is among its own inputs (through {1} values), so it cannot be drawn and backward() cannot be right": (a) =>
    l10n.t("the graph of {0} has a cycle: a value is among its own inputs (through {1} values), so it cannot be drawn and backward() cannot be right", a[0], a[1]),
  "GradLens can record at most {0} different (operation, line) pairs in one run": (a) => l10n.t("GradLens can record at most {0} different (operation, line) pairs in one run", a[0]),
  // Notes (shown in the editor and as lines of GradLens's own in the run's output).
  "this code uses Value without defining or importing it: GradLens supplied the tutorial's Value class (plain Python would stop with NameError: name 'Value' is not defined)": () =>
    l10n.t("this code uses Value without defining or importing it: GradLens supplied the tutorial's Value class (plain Python would stop with NameError: name 'Value' is not defined)"),
  "the values of the class {0} cannot be read, so they are not drawn: reading an attribute raised {1}": (a) =>
    l10n.t("the values of the class {0} cannot be read, so they are not drawn: reading an attribute raised {1}", a[0], a[1]),
  // Lines of GradLens's own in the run's output.
  "GradLens: ": () => l10n.t("GradLens: "),
  "ran the code block at line {0} first (it defines {1})": (a) => l10n.t("ran the code block at line {0} first (it defines {1})", a[0], a[1]),
  "… more output was cut off": () => l10n.t("… more output was cut off"),
};

/** The parts a tracer message was made of: `[template, ...args]` each. */
export type MessageParts = string[][];

/** The message in the display language, or undefined when a part's template is unknown here. */
export function translateTracerMessage(parts: MessageParts | undefined): string | undefined {
  if (!Array.isArray(parts) || parts.length === 0) return undefined;
  const rendered: string[] = [];
  for (const part of parts) {
    const render = Array.isArray(part) && typeof part[0] === "string" ? tracerTemplates[part[0]] : undefined;
    if (!render) return undefined;
    rendered.push(render(part.slice(1).map(String)));
  }
  return rendered.join("");
}

/** A tracer error with its message translated; the `l10n` parts do not travel further. */
export function localizeTracerError(error: RunError & { l10n?: MessageParts; stop?: unknown }): RunError {
  const { l10n: parts, stop: _stop, ...rest } = error;
  const message = translateTracerMessage(parts);
  return message === undefined ? rest : { ...rest, message };
}

/** A note for the editor, translated. */
export function localizeTracerNote(note: RunNote & { l10n?: MessageParts }): RunNote {
  const { l10n: parts, ...rest } = note;
  const message = translateTracerMessage(parts);
  return message === undefined ? rest : { ...rest, message };
}

/** A line of the run's output, GradLens's own notes translated. */
export function localizeTracerLine(line: ConsoleLine & { l10n?: MessageParts }): ConsoleLine {
  const { l10n: parts, ...rest } = line;
  const text = translateTracerMessage(parts);
  return text === undefined ? rest : { ...rest, text };
}
