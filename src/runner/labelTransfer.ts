/**
 * A snapshot's labels cross the worker boundary as typed arrays: structured-cloning a record with
 * half a million keys takes over a second, the arrays move for free and rebuild in a tenth of that.
 * The engine's own graphs are packed as they are snapshotted (snapshotGraphPacked); these pack a
 * record of labels made otherwise (a learner's class).
 */
import type { PackedLabels } from "../engine";

export type { PackedLabels };

export function packLabels(labels: Record<number, string>): PackedLabels {
  const keys = Object.keys(labels);
  const ids = new Uint32Array(keys.length);
  const nameIndex = new Uint32Array(keys.length);
  const names: string[] = [];
  const indexOf = new Map<string, number>();
  keys.forEach((key, i) => {
    const name = labels[Number(key)];
    let k = indexOf.get(name);
    if (k === undefined) {
      k = names.length;
      names.push(name);
      indexOf.set(name, k);
    }
    ids[i] = Number(key);
    nameIndex[i] = k;
  });
  return { ids, nameIndex, names };
}

export function unpackLabels(packed: PackedLabels): Record<number, string> {
  const labels: Record<number, string> = {};
  for (let i = 0; i < packed.ids.length; i++) labels[packed.ids[i]] = packed.names[packed.nameIndex[i]];
  return labels;
}
