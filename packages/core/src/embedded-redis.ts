import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import getPort from "get-port";
import { Redis } from "ioredis";

export class RedisServerMissingError extends Error {
  override name = "RedisServerMissingError";
  constructor() {
    super(
      "redis-server was not found on PATH. Install it (Debian/Ubuntu: `apt-get install redis-server`, " +
        "macOS: `brew install redis`) or set REDIS_URL to a Redis you run.",
    );
  }
}

export interface EmbeddedRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedRedisOptions {
  /** Where the append-only file lives; unset keeps nothing on disk (tests). */
  dataDir?: string;
}

export function redisServerAvailable(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Starts a private redis-server on a free loopback port and waits until it answers. */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
  if (!redisServerAvailable()) throw new RedisServerMissingError();
  const port = await getPort({ host: "127.0.0.1" });
  const persistence = options.dataDir
    ? (mkdirSync(options.dataDir, { recursive: true }), ["--dir", options.dataDir, "--appendonly", "yes", "--save", ""])
    : ["--appendonly", "no", "--save", ""];
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--maxmemory-policy", "noeviction", ...persistence],
    { stdio: "ignore" },
  );
  // The owner stops it explicitly; until then it must not keep the owner's event loop alive.
  child.unref();
  const url = `redis://127.0.0.1:${port}`;
  await waitUntilAnswers(url, child);
  return {
    url,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

async function waitUntilAnswers(url: string, child: ChildProcess, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === "PONG") return;
    } catch {
      // not listening yet
    } finally {
      probe.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not answer on ${url} within ${deadlineMs} ms`);
}
