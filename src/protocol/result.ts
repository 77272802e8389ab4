/**
 * What a run of user code returns — the one result type shared by the TypeScript runner,
 * the Python runner, the CLI, the extension and (as data) the graph view.
 * Types only: no runtime code, no Node or vscode imports, so the webview may import it too.
 */
import type { GraphSnapshot } from "../engine/snapshot";
import type { InputCheck, InputMutation } from "../engine/gradcheck";
import type { TrainingResult } from "./training";

/** A place in the user's source. Lines and columns are 1-based, as editors show them. */
export interface SourcePosition {
  /** Absolute path of the file (for a snippet: the file the selection came from). */
  file: string;
  line: number;
  column: number;
}

export interface SourceRange extends SourcePosition {
  endLine: number;
  endColumn: number;
}

/**
 * A source expression that creates values. Every node's `site` in a snapshot indexes
 * `RunResult.sites` (site 0 is "unknown": made by library code outside the user's file).
 */
export interface SourceSite extends SourceRange {
  id: number;
  /** The source text of the expression, shortened for display. */
  text: string;
  /** The variable its result was bound to (`const z = x.mul(y)` → "z"), if any. */
  binding?: string;
  /** The enclosing function, if any, for grouping by function call. */
  functionName?: string;
}

/** A graph the run produced: one per `backward()` call, else the last value. */
export interface RootGraph {
  /** "loss", "z", … the bound name or label of the root, or a made-up "root #2". */
  name: string;
  reason: "backward" | "last-value";
  /** Where the root was made, or where backward() was called. */
  position?: SourcePosition;
  graph: GraphSnapshot;
  /** The graph was cut at the node limit; `graph` then holds only the nodes nearest the root. */
  truncated?: boolean;
  /** How often backward() ran at this call site (a training loop); the graph is of the last call. */
  calls?: number;
  /**
   * Edges (indices into `graph.child`) whose local gradient nobody can know — their `localGrad` is
   * NaN. Absent: every NaN in `localGrad` is a real NaN.
   */
  unknownLocalGrad?: number[];
  /** The function calls that made the nodes, for grouping big graphs by call stack (optional). */
  frames?: CallFrames;
  /** Where parameters live in the program (`layers[0].neurons[1].w[0]`), shown as their names (optional). */
  parameterPaths?: ParameterPaths;
}

/**
 * The call stack that made a graph: calls numbered callers-first, each with its caller, and per
 * node the innermost call it was made in. The TypeScript runner records it; another runner (the
 * Python tracer) may fill the same shape or leave it out — the view then groups by expression.
 */
export interface CallFrames {
  /** Functions by index: the name the program gives it ("linear", "Neuron.call", "new Neuron", or a callback's source text). */
  functions: { name: string; file: string; line: number }[];
  /** Per call: the calling call, or -1 for a call from top-level code. */
  parent: Int32Array;
  /** Per call: index into `functions`. */
  fn: Int32Array;
  /** Per call: the source site (`RunResult.sites`) of the call expression, 0 if unknown. */
  callSite: Int32Array;
  /** Per node of the graph: the innermost call that made it, -1 for top-level code. */
  node: Int32Array;
}

/** Parameter paths by node: `path[k]` names node `node[k]` (`state_dict['wte'][3][7]`). */
export interface ParameterPaths {
  node: Uint32Array;
  path: string[];
}

/** What a hover on a variable shows: its last value, and how often it was assigned. */
export interface BindingValue {
  name: string;
  /** Where the variable is declared (or first assigned). */
  range: SourceRange;
  data: number;
  grad: number;
  op: string;
  /** How many Values were bound to it over the run (loops make many). */
  count: number;
  /** The last instance's node, if it is in one of the root graphs. */
  node?: { root: number; id: number };
}

export interface ConsoleLine {
  stream: "stdout" | "stderr";
  text: string;
  position?: SourcePosition;
}

export type RunErrorKind =
  | "syntax" // the file does not parse or compile
  | "runtime" // the user's code threw
  | "timeout" // stopped after the time limit
  | "memory" // the heap limit was reached
  | "cancelled" // the user cancelled
  | "too-large" // more nodes than the node limit
  | "interpreter" // Python is missing or failed to start
  | "internal" // a bug in GradLens itself
  | "exit" // the program ended itself with a non-zero code (process.exit, sys.exit, os._exit)
  | "signal"; // the program was killed by a signal (a crash in native code, SIGKILL)

export interface RunError {
  kind: RunErrorKind;
  /** A sentence a learner understands ("stopped after 10 s", "x is not defined"). */
  message: string;
  position?: SourcePosition;
  /** The user's own frames, mapped to their source, for the log. */
  stack?: string;
}

/** The first value that went NaN or ±Infinity, and where it was made. */
export interface NonFiniteReport {
  field: "data" | "grad";
  value: number;
  op: string;
  /** Node id in `RunResult.roots[root].graph`. */
  root: number;
  id: number;
  position?: SourcePosition;
  message: string;
}

/** The check of one scalar input: the engine's own type, so runners, CLI and editor read the same fields. */
export type InputCheckResult = InputCheck;

/** One recorded instance of an op, checked: its inputs, and d(output)/d(input) from the op and from differences. */
export interface OpInstanceCheck {
  /** The data of each input (child) of the node. */
  inputs: number[];
  output: number;
  /** The local gradients the op recorded (or its `_backward` produced). */
  analytic: number[];
  /** Central differences of the op's forward at the same inputs. */
  numeric: number[];
  ok: boolean;
  /** Its node, where it is in one of the run's graphs (`RunResult.roots`). */
  node?: { root: number; id: number };
}

/**
 * The local gradients of one op kind at one source site, checked numerically at a sample of the
 * instances the run recorded. `worst` is the instance with the largest error.
 */
export interface OpCheckResult {
  op: string;
  /** The site that made the nodes (`RunResult.sites`), and where it is. */
  siteId: number;
  position?: SourcePosition;
  /** Where the op is defined, when that is another line (a method of the user's Value class). */
  definition?: SourcePosition;
  /** The method of a learner's TypeScript class that makes the op, where it was found by re-running it. */
  method?: string;
  /** "built-in": GradLens's own op; "user": an op the user's code defines. */
  kind: "built-in" | "user";
  /** false when an instance disagrees; true when all agree or the op could not be checked (see `unchecked`). */
  ok: boolean;
  /** Instances recorded at this site, and how many of them were checked. */
  total: number;
  checked: number;
  failed: number;
  worst?: OpInstanceCheck;
  /** Why the op could not be checked numerically (its forward could not be re-run). */
  unchecked?: string;
  /**
   * The op overwrites its inputs' grads instead of adding to them (`=` instead of `+=` in a
   * `_backward`): found by calling `_backward` with non-zero grads already in place.
   */
  overwrites?: boolean;
  /** Failing instances' nodes in the run's graphs: what the graph view marks. */
  nodes?: { root: number; id: number }[];
}

/** Something that ran but is probably not what the learner meant (a second backward() without zeroing). */
export interface RunWarning {
  kind: "double-backward" | "grads-not-reset";
  message: string;
  position?: SourcePosition;
}

/** A gradient check of one function of a `.grad.ts` file. */
export interface FunctionCheckResult {
  name: string;
  /** Where the function is declared (the CodeLens goes here). */
  range: SourceRange;
  /**
   * The point, by parameter name; "@gradcheck" when it came from the JSDoc tag, else "random";
   * "program" for a model checked at the run's own values with respect to all its leaves (point empty).
   */
  point: Record<string, number | number[]>;
  pointSource: "@gradcheck" | "random" | "program";
  ok: boolean;
  output?: number;
  maxRelError: number;
  inputs: InputCheckResult[];
  /** Set when the function could not be checked (it threw, or returned no Value). */
  error?: RunError;
  /** How the point was made where it was not obvious (e.g. random arrays of a default length). */
  note?: string;
  /** "fast" above ~100 scalar inputs: random directions, failing inputs found by bisection. */
  mode?: "full" | "fast";
  /** The inputs the function wrote to: the check is of another point. */
  mutations?: InputMutation[];
  /** The local gradients of the ops the function's graph used. */
  ops?: OpCheckResult[];
  /** Array parameters whose length was inferred from what the function read (else the default). */
  inferredLengths?: Record<string, number>;
}

/**
 * Something the learner should know about how the run went that is not an error: earlier Markdown
 * blocks ran first, GradLens supplied the tutorial's Value class, a class could only be read directly.
 */
export interface RunNote {
  kind: "context" | "tutorial-value" | "unreadable-class";
  message: string;
}

export interface RunResult {
  ok: boolean;
  language: "typescript" | "python";
  /** The file that ran (for a snippet, the file the selection came from). */
  file: string;
  roots: RootGraph[];
  /** Indexed by site id; sites[0] is the "unknown" site. */
  sites: SourceSite[];
  bindings: BindingValue[];
  console: ConsoleLine[];
  error?: RunError;
  nonFinite?: NonFiniteReport;
  checks?: FunctionCheckResult[];
  /** The local gradients of the ops in the run's graphs (a "Check ops" run). */
  opChecks?: OpCheckResult[];
  /** Likely learner bugs that do not stop the run (backward() twice without zeroing). */
  warnings?: RunWarning[];
  /** Per-step records of a training run (the Train command, `gradlens train`). */
  training?: TrainingResult;
  /** Shown where the learner looks (status bar, notification, the graph view). */
  notes?: RunNote[];
  /**
   * Whole run; bundling, worker startup and the user code's own time where known. `bundledOffThread`:
   * the code was bundled and instrumented on a thread of its own, not the caller's.
   */
  stats: { durationMs: number; nodeCount: number; bundleMs?: number; bundledOffThread?: boolean; startupMs?: number; executeMs?: number; executeCpuMs?: number; workerHeapMb?: number };
}
