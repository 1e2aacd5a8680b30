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
