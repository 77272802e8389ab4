// Shared by the integration harness (run-integration.mjs) and the end-to-end suite (e2e.mjs): starting
// the offline VS Code server that scripts/install-vscode.mjs installed, and the Chromium that opens it.
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { nodeFor, serverMainFor } from "./install-vscode.mjs";

export const chromiumPath = process.env.GRADLENS_CHROMIUM ?? "/usr/bin/chromium";

/** Headless Chromium flags for a machine without GPU or internet (see ../shared/vscode-offline.md). */
export const chromiumArgs = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

export async function waitForServer(url, server, deadline) {
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the VS Code server exited (${server.exitCode}) before it was ready`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the VS Code server did not start in time");
}

/** Installs a VSIX into `extensionsDir` with the server's own CLI, the way a user installs one. */
export function installVsix(build, vsix, extensionsDir) {
  const result = spawnSync(nodeFor(build), [serverMainFor(build), "--install-extension", vsix, "--extensions-dir", extensionsDir, "--force"], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`installing ${vsix} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return `${result.stdout}`.trim();
}

/**
 * Starts the VS Code server on a free loopback port; resolves once it answers.
 * `trusted: false` leaves Workspace Trust on, so the folder opens in Restricted Mode.
 * Returns { origin, url(folder), output (lines so far), stop() }.
 */
export async function startServer({ build, scratch, workspace, extensionsDir, trusted, env = process.env, extraArgs = [], onLine }) {
  const port = await freePort();
  const origin = `127.0.0.1:${port}`;
  const args = [
    serverMainFor(build),
    "--host", "127.0.0.1",
    "--port", String(port),
    "--without-connection-token",
    "--accept-server-license-terms",
    "--user-data-dir", `${scratch}/user-data`,
    "--server-data-dir", `${scratch}/server-data`,
    "--extensions-dir", extensionsDir,
    "--default-folder", workspace,
    "--log", "warn",
  ];
  if (trusted) args.push("--disable-workspace-trust");
  args.push(...extraArgs);
  const output = [];
  const server = spawn(nodeFor(build), args, { cwd: scratch, env, stdio: ["ignore", "pipe", "pipe"] });
  const onOutput = (chunk) => {
    for (const line of chunk.toString().split(/\r?\n/)) {
      if (line.trim() === "") continue;
      output.push(line);
      onLine?.(line);
    }
  };
  server.stdout.on("data", onOutput);
  server.stderr.on("data", onOutput);
  const stop = async () => {
    if (server.exitCode !== null) return;
    server.kill("SIGTERM");
    await new Promise((r) => (server.exitCode !== null ? r() : server.once("exit", r)));
  };
  try {
    await waitForServer(`http://${origin}/`, server, Date.now() + 60_000);
  } catch (error) {
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output.slice(-20).join("\n")}`);
  }
  return { origin, url: `http://${origin}/?folder=${encodeURIComponent(workspace)}`, output, stop };
}
