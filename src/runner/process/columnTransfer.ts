/**
 * Big typed arrays (a graph's columns) sent over the child's channel in pieces. The channel
 * delivers a message only once all of it has arrived, and then copies and decodes it in one go on
 * the caller's thread: a million-node graph as one message held the extension host for hundreds of
 * milliseconds. Sent as pieces of at most PIECE_BYTES, each is a small task, and the caller's
 * event loop turns between them; the message that refers to them then carries only small fields.
 */

/** Larger typed arrays travel in pieces of this size. */
export const PIECE_BYTES = 1 << 20;
/** No column is assembled larger than this (a forged size must not make the caller allocate without end). */
const MAX_COLUMN_BYTES = 2 ** 31;

const TYPES = { Float64Array, Uint32Array, Int32Array, Uint16Array, Uint8Array } as const;
type ColumnType = keyof typeof TYPES;
type Column = InstanceType<(typeof TYPES)[ColumnType]>;

/** One piece of a column, as it crosses the channel. */
export interface ColumnPiece {
  id: number;
  kind: ColumnType;
  /** Length of the whole column, in elements. */
  length: number;
  /** Where this piece starts, in elements. */
  offset: number;
  data: Column;
}

/** Stands in for a column in the message that refers to it. */
interface ColumnRef {
  gradlensColumn: number;
}

// Not Object.keys: on a typed array that lists every index.
const isRef = (x: unknown): x is ColumnRef => typeof x === "object" && x !== null && !ArrayBuffer.isView(x) && !Array.isArray(x) && Number.isInteger((x as Partial<ColumnRef>).gradlensColumn);

function kindOf(x: unknown): ColumnType | undefined {
  for (const kind of Object.keys(TYPES) as ColumnType[]) if (x instanceof TYPES[kind]) return kind;
  return undefined;
}

/**
 * `x` rebuilt with `leaf` deciding each value it claims ({ value }) and the walk going into the
 * arrays and objects it leaves (undefined). Copy on write: an array or object none of whose values
 * changed is kept as it is, so a message of small fields (a graph's paths, its step records) is
 * walked, not copied — copying a result's every field cost a tenth of a microgpt run's finish.
 */
function rebuild(x: unknown, leaf: (y: unknown) => { value: unknown } | undefined): unknown {
  const walk = (y: unknown): unknown => {
    const claimed = leaf(y);
    if (claimed) return claimed.value;
    if (typeof y !== "object" || y === null) return y;
    if (Array.isArray(y)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < y.length; i++) {
        const z: unknown = y[i];
        if (typeof z !== "object" || z === null) continue;
        const w = walk(z);
        if (w !== z) (out ??= y.slice())[i] = w;
      }
      return out ?? y;
    }
    let out: Record<string, unknown> | undefined;
    const record = y as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const z = record[key];
      if (typeof z !== "object" || z === null) continue;
      const w = walk(z);
      if (w !== z) (out ??= { ...record })[key] = w;
    }
    return out ?? y;
  };
  return walk(x);
}

/** Child side: `message` with its big typed arrays replaced by references, and the pieces to send first. */
export function splitColumns<T>(message: T, nextId: () => number): { message: T; pieces: ColumnPiece[] } {
  const pieces: ColumnPiece[] = [];
  const withRefs = rebuild(message, (x) => {
    if (!ArrayBuffer.isView(x)) return undefined;
    const kind = kindOf(x);
    if (!kind || x.byteLength <= PIECE_BYTES) return { value: x };
    const column = x as Column;
    const id = nextId();
    const step = PIECE_BYTES / column.BYTES_PER_ELEMENT;
    for (let offset = 0; offset < column.length; offset += step) pieces.push({ id, kind, length: column.length, offset, data: column.subarray(offset, offset + step) });
    return { value: { gradlensColumn: id } satisfies ColumnRef };
  });
  return { message: withRefs as T, pieces };
}

/** Caller side: pieces assembled as they arrive (checked: a malformed piece is refused, never a throw). */
export class ColumnAssembly {
  private readonly columns = new Map<number, { kind: ColumnType; column: Column; filled: number }>();

  /** Adds a piece; false when it is malformed (the caller counts it as a foreign message). */
  add(raw: unknown): boolean {
    if (typeof raw !== "object" || raw === null) return false;
    const piece = raw as Partial<ColumnPiece>;
    const { id, kind, length, offset, data } = piece;
    if (!Number.isInteger(id) || !Number.isInteger(length) || !Number.isInteger(offset) || typeof kind !== "string" || !(kind in TYPES)) return false;
    if (!(data instanceof TYPES[kind as ColumnType]) || (offset as number) < 0 || (offset as number) + data.length > (length as number)) return false;
    let entry = this.columns.get(id as number);
    if (!entry) {
      const type = TYPES[kind as ColumnType];
      if ((length as number) * type.BYTES_PER_ELEMENT > MAX_COLUMN_BYTES) return false;
      try {
        entry = { kind: kind as ColumnType, column: new type(length as number), filled: 0 };
      } catch {
        return false;
      }
      this.columns.set(id as number, entry);
    }
    if (entry.kind !== kind || entry.column.length !== length) return false;
    (entry.column as Float64Array).set(data as unknown as Float64Array, offset as number);
    entry.filled += data.length;
    return true;
  }

  /**
   * `message` with each reference replaced by its assembled column (undefined if one is missing or
   * incomplete). Assembled columns are used once: the next checkpoint sends its own.
   */
  resolve<T>(message: T): T | undefined {
    let complete = true;
    const resolved = rebuild(message, (x) => {
      if (ArrayBuffer.isView(x)) return { value: x };
      if (!isRef(x)) return undefined;
      const entry = this.columns.get(x.gradlensColumn);
      if (!entry || entry.filled !== entry.column.length) {
        complete = false;
        return { value: x };
      }
      this.columns.delete(x.gradlensColumn);
      return { value: entry.column };
    }) as T;
    return complete ? resolved : undefined;
  }
}
