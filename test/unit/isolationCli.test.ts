/**
 * The CLI as a process meets hostile programs: it survives them, exits promptly at its limits
 * (`--timeout`, `--memory`), and still prints the graph a stopped run kept.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { buildCli } from "./runnerSupport";
import { assertAllGone, program } from "./isolationSupport";
import { parseArgs, UsageError } from "../../src/cli/args";

interface Exit {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

describe("isolation: the CLI as a process", function () {
  this.timeout(60_000);
  let cli = "";
  before(() => {
    cli = buildCli();
  });
  const gradlens = (...args: string[]): Promise<Exit> =>
    new Promise((resolve) => {
      const started = Date.now();
      const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr, ms: Date.now() - started }));
    });

  const training = `import { Value } from "gradlens";
const w = new Value(0.5);
for (let step = 0; step < 3; step++) {
  const loss = w.mul(w).add(1);
  loss.backward();
  w.data -= 0.1 * w.grad;
}
console.log("pid " + process.pid);
`;

  it("--memory stops a heap bomb; graph --json still prints the kept graph and exits 2", async () => {
    const file = program("cliBomb.grad.ts", `${training}const keep: number[][] = [];\nwhile (true) keep.push(new Array(1e6).fill(1.5));\n`);
    const run = await gradlens("graph", file, "--json", "--memory", "256");
    assert.equal(run.status, 2);
    assert.match(run.stderr, /cliBomb\.grad\.ts:10:\d+: memory: stopped: the run used more than its memory limit of 256 MB/);
    const json = JSON.parse(run.stdout) as { root: { name: string }; nodes: unknown[] };
    assert.equal(json.root.name, "loss");
    assert.equal(json.nodes.length, 4);
    await assertAllGone([Number(/pid (\d+)/.exec(run.stderr)?.[1])]);
  });

  it("--timeout ends execSync('sleep 100') and the CLI exits within a second of the limit", async () => {
    const file = program("cliSleep.grad.ts", `import { execSync } from "node:child_process";\nconsole.log("pid " + process.pid);\nexecSync("sleep 100");\n`);
    const run = await gradlens("graph", file, "--timeout", "1");
    assert.equal(run.status, 2);
    assert.match(run.stderr, /timeout: stopped after 1 s/);
    assert.ok(run.ms < 1000 + 1000 + 1500, `the CLI took ${run.ms} ms`);
  });

  it("survives a program that kills itself, and a forged message, and says so", async () => {
    const killed = await gradlens("graph", program("cliSelfKill.grad.ts", `process.kill(process.pid, "SIGKILL");\n`));
    assert.equal(killed.status, 2);
    assert.match(killed.stderr, /signal: the program was killed by the signal SIGKILL/);
    const forged = await gradlens("graph", program("cliForged.grad.ts", `import { Value } from "gradlens";\nprocess.send!(42);\nconst x = new Value(2);\nx.mul(x).backward();\n`), "--json");
    assert.equal(forged.status, 0, forged.stderr);
    assert.equal((JSON.parse(forged.stdout) as { nodes: unknown[] }).nodes.length, 2);
  });

  it("parses --memory beside --timeout", () => {
    assert.equal(parseArgs(["graph", "f.grad.ts", "--memory", "512"]).memoryMb, 512);
    assert.throws(() => parseArgs(["graph", "f.grad.ts", "--memory", "10"]), UsageError);
    assert.throws(() => parseArgs(["graph", "f.grad.ts", "--memory"]), UsageError);
  });
});
