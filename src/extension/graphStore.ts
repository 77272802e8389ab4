/**
 * The last graph, kept on disk so a window reload can show it again. Written lazily (a while after
 * the last run, never on the way to the screen) and as binary: a small JSON header, then the
 * typed-array columns byte for byte — no per-node JSON on the extension host.
 */
import type { WireResult } from "../protocol/messages";

const magic = 0x474c4731; // "GLG1"
const arrayTypes = { Float64Array, Float32Array, Int32Array, Uint32Array, Uint16Array, Uint8Array } as const;
type ArrayTypeName = keyof typeof arrayTypes;
type Column = InstanceType<(typeof arrayTypes)[ArrayTypeName]>;

interface ColumnRef {
  __column: number;
  type: ArrayTypeName;
  length: number;
}

/** The result as bytes: [magic, header length] [header JSON] [columns, each 8-byte aligned]. */
export function encodeGraphs(result: WireResult): Uint8Array {
  const columns: Column[] = [];
  const header = JSON.stringify(result, (_key, value: unknown) => {
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const type = value.constructor.name as ArrayTypeName;
      if (!(type in arrayTypes)) return undefined;
      columns.push(value as Column);
      const ref: ColumnRef = { __column: columns.length - 1, type, length: (value as Column).length };
      return ref;
    }
    return value;
  });
  const headerBytes = new TextEncoder().encode(header);
  const align = (n: number): number => Math.ceil(n / 8) * 8;
  let size = align(8 + headerBytes.length);
  for (const c of columns) size += align(c.byteLength);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, headerBytes.length);
  out.set(headerBytes, 8);
  let at = align(8 + headerBytes.length);
  for (const c of columns) {
    out.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
    at += align(c.byteLength);
  }
  return out;
}

/** Reads `encodeGraphs`' bytes; undefined for anything else (an old or damaged file). */
export function decodeGraphs(bytes: Uint8Array): WireResult | undefined {
  if (bytes.byteLength < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== magic) return undefined;
  const headerLength = view.getUint32(4);
  if (8 + headerLength > bytes.byteLength) return undefined;
  const align = (n: number): number => Math.ceil(n / 8) * 8;
  // Copy once into an aligned buffer so every column can be a view on it.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const offsets: number[] = [];
  const refs: ColumnRef[] = [];
  const parsed = JSON.parse(new TextDecoder().decode(copy.subarray(8, 8 + headerLength)), (_key, value: unknown) => {
    if (typeof value === "object" && value !== null && typeof (value as ColumnRef).__column === "number") refs.push(value as ColumnRef);
    return value;
  }) as unknown;
  let at = align(8 + headerLength);
  refs.sort((a, b) => a.__column - b.__column);
  for (const ref of refs) {
    offsets[ref.__column] = at;
    at += align(ref.length * arrayTypes[ref.type].BYTES_PER_ELEMENT);
  }
  if (at > copy.byteLength) return undefined;
  const revive = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(revive);
    if (typeof value !== "object" || value === null) return value;
    const ref = value as ColumnRef;
    if (typeof ref.__column === "number" && ref.type in arrayTypes) {
      return new arrayTypes[ref.type](copy.buffer, offsets[ref.__column], ref.length);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = revive(v);
    return out;
  };
  return revive(parsed) as WireResult;
}
