/**
 * A layered left-to-right layout that exploits the graph being a DAG in topological order:
 * columns come from longest-path layering (computed by the caller), rows from a few
 * barycenter sweeps (each item moves towards the mean row of its neighbours), then columns
 * are packed by their widest item. O(passes × (items + edges) log items), so 50k items lay out
 * in well under a second, where Sugiyama-style layouts with crossing minimisation take minutes.
 *
 * It runs in a Web Worker made from a Blob (CSP `worker-src blob:`), so `layeredLayout` must
 * stay self-contained: the worker receives its source text, not the module.
 */

export interface LayoutInput {
  count: number;
  column: Int32Array;
  edgeFrom: Int32Array;
  edgeTo: Int32Array;
  width: Float32Array;
  height: Float32Array;
  gapX: number;
  gapY: number;
  sweeps: number;
}

export interface LayoutOutput {
  x: Float32Array;
  y: Float32Array;
}

export function layeredLayout(input: LayoutInput): LayoutOutput {
  const { count, column, edgeFrom, edgeTo, width, height, gapX, gapY, sweeps } = input;
  let columns = 0;
  for (let i = 0; i < count; i++) columns = Math.max(columns, column[i] + 1);
  // Items per column, in their initial (topological) order.
  const byColumn: number[][] = [];
  for (let c = 0; c < columns; c++) byColumn.push([]);
  for (let i = 0; i < count; i++) byColumn[column[i]].push(i);
  // Neighbours in both directions (CSR).
  const degree = new Uint32Array(count + 1);
  for (let e = 0; e < edgeFrom.length; e++) {
    degree[edgeFrom[e] + 1]++;
    degree[edgeTo[e] + 1]++;
  }
  for (let i = 0; i < count; i++) degree[i + 1] += degree[i];
  const neighbour = new Int32Array(degree[count]);
  const fill = degree.slice(0, count);
  for (let e = 0; e < edgeFrom.length; e++) {
    neighbour[fill[edgeFrom[e]]++] = edgeTo[e];
    neighbour[fill[edgeTo[e]]++] = edgeFrom[e];
  }
  const rank = new Float64Array(count);
  const place = (c: number): void => {
    const items = byColumn[c];
    for (let k = 0; k < items.length; k++) rank[items[k]] = k - items.length / 2;
  };
  for (let c = 0; c < columns; c++) place(c);
  const key = new Float64Array(count);
  // Sweep right-to-left first: the output's inputs then line up behind it.
  for (let pass = 0; pass < sweeps; pass++) {
    const leftward = pass % 2 === 0;
    for (let step = 0; step < columns; step++) {
      const c = leftward ? columns - 1 - step : step;
      const items = byColumn[c];
      for (const i of items) {
        let sum = 0;
        let n = 0;
        for (let e = degree[i]; e < degree[i + 1]; e++) {
          const j = neighbour[e];
          if (leftward ? column[j] > c : column[j] < c) {
            sum += rank[j];
            n++;
          }
        }
        key[i] = n > 0 ? sum / n : rank[i];
      }
      items.sort((a, b) => key[a] - key[b] || a - b);
      place(c);
    }
  }
  const x = new Float32Array(count);
  const y = new Float32Array(count);
  let left = 0;
  for (let c = 0; c < columns; c++) {
    const items = byColumn[c];
    let widest = 0;
    let total = 0;
    for (const i of items) {
      widest = Math.max(widest, width[i]);
      total += height[i] + gapY;
    }
    let top = -total / 2;
    for (const i of items) {
      x[i] = left + widest / 2;
      y[i] = top + height[i] / 2;
      top += height[i] + gapY;
    }
    left += widest + gapX;
  }
  return { x, y };
}

let worker: Worker | undefined;
let workerFailed = false;
let nextRequest = 0;
const waiting = new Map<number, (out: LayoutOutput) => void>();

/** Below this many items the layout takes less than a round trip to the worker. */
const workerFrom = 600;

/** Runs `layeredLayout` off the UI thread (for big levels); falls back to the UI thread if no worker can be made. */
export function layoutInWorker(input: LayoutInput): Promise<LayoutOutput> {
  if (input.count < workerFrom) return Promise.resolve(layeredLayout(input));
  if (!worker && !workerFailed) {
    try {
      const source = `const layeredLayout = ${layeredLayout.toString()};
self.onmessage = (event) => {
  const { id, input } = event.data;
  const out = layeredLayout(input);
  self.postMessage({ id, x: out.x, y: out.y }, [out.x.buffer, out.y.buffer]);
};`;
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      worker = new Worker(url);
      worker.onmessage = (event: MessageEvent<{ id: number; x: Float32Array; y: Float32Array }>) => {
        const done = waiting.get(event.data.id);
        waiting.delete(event.data.id);
        done?.({ x: event.data.x, y: event.data.y });
      };
      worker.onerror = () => {
        // A worker that cannot run (blocked by policy) leaves its requests to the UI thread.
        workerFailed = true;
        worker = undefined;
        for (const [, done] of waiting) done({ x: new Float32Array(0), y: new Float32Array(0) });
        waiting.clear();
      };
    } catch {
      workerFailed = true;
    }
  }
  if (!worker) return Promise.resolve(layeredLayout(input));
  const id = nextRequest++;
  return new Promise((resolve) => {
    waiting.set(id, (out) => resolve(out.x.length === input.count ? out : layeredLayout(input)));
    worker?.postMessage({ id, input });
  });
}

/** Whether the last layout ran in a worker (reported in the benchmark). */
export function layoutUsesWorker(): boolean {
  return worker !== undefined && !workerFailed;
}
