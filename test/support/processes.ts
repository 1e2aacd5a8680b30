import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestConfig } from "./harness.js";

const WORKER_MAIN = fileURLToPath(new URL("../../apps/worker/dist/main.js", import.meta.url));

/** A worker in a process of its own (the built app), on the test's Redis and key prefix: one a test can kill. */
export function spawnWorker(config: TestConfig & { env: Record<string, string> }, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: { PATH: process.env.PATH!, ...config.env, ...env },
    stdio: "ignore",
  });
  return { child, exited: new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal))) };
}

const INGEST_MAIN = fileURLToPath(new URL("../../apps/ingest/dist/main.js", import.meta.url));

/**
 * An ingest in a process of its own (the built app), on the test's Redis and key prefix;
 * resolves with its URL once it listens (it logs its port at info).
 */
export async function spawnIngest(config: TestConfig & { env: Record<string, string> }) {
  const child = spawn(process.execPath, [INGEST_MAIN], {
    env: { PATH: process.env.PATH!, ...config.env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "ignore"],
  });
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
