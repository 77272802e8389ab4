/**
 * Parameter paths: a name for each value the program keeps, read from its own structure —
 * `model.stateDict.wte[3][5]`, `mlp.layers[0].w[2]` — by walking from the program's bindings
 * through objects, arrays and Maps down to the values (depth first, in property order: the
 * first path found wins, so `stateDict.wte[0][0]` beats a later flat `params[0]`).
 * Generic over the value type, so the TypeScript engine and learners' own classes share it.
 */

/** A named starting point of the walk (a binding of the user's code). */
export interface PathRoot {
  name: string;
  value: unknown;
}

/** Objects visited at most, so a program holding a huge data set cannot make the walk slow. */
const MAX_VISITED = 200_000;
/** Array elements looked at per array (a data set of a million numbers is skipped past quickly). */
const MAX_ARRAY_ITEMS = 100_000;

const identifier = /^[A-Za-z_$][\w$]*$/;

/** `.name` for identifiers, `["odd key"]` otherwise. */
function propertySegment(key: string): string {
  return identifier.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Whether the walk looks inside `x` (data structures; not functions, typed arrays or buffers). */
function isContainer(x: unknown): x is object {
  if (typeof x !== "object" || x === null) return false;
  if (ArrayBuffer.isView(x) || x instanceof ArrayBuffer || x instanceof Promise || x instanceof RegExp || x instanceof Date) return false;
  return true;
}

/** Where the walk found a value: its path, and its group (the path without its trailing indices, see groupOfPath). */
export interface ParamPath {
  path: string;
  group: string;
}

/**
 * Every value reachable from `roots`, with the first path that reached it. Each path's group is
 * carried along the walk (an array's items share their array's group string), rather than read
 * back from thousands of path strings afterwards.
 */
export function findParameterPaths<V extends object>(roots: readonly PathRoot[], isValue: (x: unknown) => x is V): Map<V, ParamPath> {
  const paths = new Map<V, ParamPath>();
  const visited = new Set<object>();
  // An explicit stack (children pushed last-first), so deep structures cannot overflow the call stack.
  const stack: Reached[] = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push({ value: roots[i].value, path: roots[i].name, group: groupOfPath(roots[i].name) });
  while (stack.length > 0 && visited.size < MAX_VISITED) {
    const { value, path, group } = stack.pop() as Reached;
    if (isValue(value)) {
      if (!paths.has(value)) paths.set(value, { path, group });
      continue;
    }
    if (!isContainer(value) || visited.has(value)) continue;
    visited.add(value);
    const children: Reached[] = [];
    try {
      if (Array.isArray(value)) {
        const n = Math.min(value.length, MAX_ARRAY_ITEMS);
        for (let i = 0; i < n; i++) {
          const item: unknown = value[i];
          // A value or container reached already keeps its first path: no string made for it again (a flat `params` list).
          if (typeof item === "object" && item !== null && !paths.has(item as V) && !visited.has(item)) children.push({ value: item, path: `${path}[${i}]`, group });
        }
      } else if (value instanceof Map) {
        for (const [key, item] of value) {
          if (typeof item === "object" && item !== null) {
            const at = `${path}.get(${typeof key === "string" ? JSON.stringify(key) : String(key)})`;
            children.push({ value: item, path: at, group: at });
          }
        }
      } else if (value instanceof Set) {
        // Sets have no keys: their members get no path of their own here.
      } else {
        for (const key of Object.keys(value)) {
          // A getter can run user code: read plain data properties only.
          const descriptor = Object.getOwnPropertyDescriptor(value, key);
          if (!descriptor || !("value" in descriptor)) continue;
          const item: unknown = descriptor.value;
          if (typeof item === "object" && item !== null) {
            // A property (`.w`, `["layer0.attn_wq"]`) is never an index: it starts a group of its own.
            const at = `${path}${propertySegment(key)}`;
            children.push({ value: item, path: at, group: at });
          }
        }
      }
    } catch {
      continue; // a proxy or exotic object: skipped, never a failure of the run
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return paths;
}

interface Reached {
  value: unknown;
  path: string;
  group: string;
}

/**
 * A parameter's group: its path without the trailing indices (`model.w[3][5]` → `model.w`). Read
 * from the end by hand: a model has thousands of parameters, and a regular expression per path
 * cost more than the walk that found them.
 */
export function groupOfPath(path: string): string {
  let end = path.length;
  for (;;) {
    if (path.charCodeAt(end - 1) !== 0x5d /* ] */) break;
    let i = end - 2;
    while (i >= 0 && isDigit(path.charCodeAt(i))) i--;
    if (i === end - 2 || i < 0 || path.charCodeAt(i) !== 0x5b /* [ */) break;
    end = i;
  }
  return end === 0 ? path : path.slice(0, end);
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * Group names without the prefix they all share (`model.stateDict.wte`, `model.stateDict["layer0.attn_wq"]`
 * → `wte`, `layer0.attn_wq`), cut at a segment boundary; a single group keeps its last segment.
 */
export function shortGroupNames(groups: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (groups.length === 0) return out;
  let prefix = groups[0];
  for (const g of groups) {
    let i = 0;
    while (i < prefix.length && i < g.length && prefix[i] === g[i]) i++;
    prefix = prefix.slice(0, i);
  }
  // Back to the last boundary before a segment (`.` or `[`) that every name continues past.
  let cut = prefix.length;
  while (cut > 0 && !groups.every((g) => g.length > cut && (g[cut] === "." || g[cut] === "["))) cut--;
  // `[0][0].w` says little: keep the property the indices belong to (`layers[0][0].w`).
  if (/^\[\d/.test(groups[0].slice(cut, cut + 2))) cut = Math.max(0, groups[0].lastIndexOf(".", cut - 1));
  for (const g of groups) out.set(g, tidy(groups.length > 1 ? g.slice(cut) : lastSegment(g)));
  return out;
}

function lastSegment(name: string): string {
  const match = /(\.[A-Za-z_$][\w$]*|\[[^\]]*\])$/.exec(name);
  return match && match.index > 0 ? match[0] : name;
}

/** `.wte` → `wte`, `["layer0.attn_wq"]` → `layer0.attn_wq`, `['wte']` → `wte`. */
function tidy(name: string): string {
  if (name.startsWith(".")) return name.slice(1);
  const quoted = /^\[(["'])(.*?)\1\](.*)$/.exec(name);
  if (quoted) return `${quoted[2]}${quoted[3]}`;
  return name;
}
