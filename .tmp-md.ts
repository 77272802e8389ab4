import { readFileSync } from "node:fs";
import { pythonBlocksOf, runPython } from "./src/runner/python";
(async () => {
  const file = process.argv[2];
  const md = readFileSync(file, "utf8");
  for (const b of pythonBlocksOf(md)) {
    const r = await runPython({ file, code: b.code, origin: { file, line: b.startLine, column: 1 } }, {});
    console.log(b.startLine, JSON.stringify({ e: r.error && [r.error.kind, r.error.message, r.error.position?.line, r.error.position?.column], notes: r.notes?.map((n) => n.kind), c: r.console.map((c) => c.text), roots: r.roots.map((x) => [x.name, x.graph.nodeCount, x.graph.data[x.graph.root]]) }));
  }
})();
