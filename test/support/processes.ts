import { spawn, type StdioOptions } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TestConfig } from "./harness.js";

const MAINS = {
  ingest: fileURLToPath(new URL("../../apps/ingest/dist/main.js", import.meta.url)),
  worker: fileURLToPath(new URL("../../apps/worker/dist/main.js", import.meta.url)),
};

type AppConfig = TestConfig & { env: Record<string, string> };

/** The built app in a process of its own, on the test's Redis and key prefix. */
function spawnApp(app: keyof typeof MAINS, config: AppConfig, env: Record<string, string>, stdio: StdioOptions) {
  return spawn(process.execPath, [MAINS[app]], { env: { PATH: process.env.PATH!, ...config.env, ...env }, stdio });
}

/** A worker in a process of its own: one a test can kill. */
export function spawnWorker(config: AppConfig, env: Record<string, string> = {}) {
  const child = spawnApp("worker", config, env, "ignore");
  return { child, exited: new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal))) };
}

/** An app in a process of its own whose every output line (stdout and stderr) is kept. */
export function spawnWithOutput(app: keyof typeof MAINS, config: AppConfig, env: Record<string, string> = {}) {
  const child = spawnApp(app, config, env, ["ignore", "pipe", "pipe"]);
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on("line", (line) => lines.push(line));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    lines,
    /** Stops it (SIGTERM, as a deploy does) and waits until it has exited and its last lines are read. */
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * An ingest in a process of its own (the built app), on the test's Redis and key prefix;
 * resolves with its URL once it listens (it logs its port at info).
 */
export async function spawnIngest(config: AppConfig) {
  const child = spawnApp("ingest", config, { LOG_LEVEL: "info" }, ["ignore", "pipe", "ignore"]);
  const port = await new Promise<string>((resolve, reject) => {
    let logged = "";
    const read = (chunk: Buffer) => {
      logged += chunk.toString("utf8");
      const port = /"port":(\d+).*"msg":"ingest listening"/.exec(logged)?.[1];
      if (!port) return;
      // Its later lines are read and dropped, so that a full pipe never stalls it.
      child.stdout!.off("data", read).resume();
      resolve(port);
    };
    child.stdout!.on("data", read);
    child.once("exit", (code) => reject(new Error(`the ingest exited (${code}) before it listened`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
