import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import net from "node:net";
import getPort from "get-port";

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
  /** The redis-server's process id (the benchmark reads its CPU time). */
  pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedRedisOptions {
  /** Where the append-only file lives; unset keeps nothing on disk (tests). */
  dataDir?: string;
  /** The port to listen on (to come back where clients expect it after a restart); unset: a free one. */
  port?: number;
  /** More redis-server settings, as command-line arguments (`["--rename-command", "BGREWRITEAOF", ""]`, say). */
  settings?: string[];
}

export function redisServerAvailable(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Starts a private redis-server on a free loopback port and waits until it answers. */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions = {}): Promise<EmbeddedRedis> {
  if (!redisServerAvailable()) throw new RedisServerMissingError();
  const port = options.port ?? (await getPort({ host: "127.0.0.1" }));
  const persistence = options.dataDir
    ? (mkdirSync(options.dataDir, { recursive: true }), ["--dir", options.dataDir, "--appendonly", "yes", "--save", ""])
    : ["--appendonly", "no", "--save", ""];
  return spawnRedisServer(port, [...persistence, ...(options.settings ?? [])]);
}

/** Runs redis-server on `port` of the loopback interface with `args`, and waits until it answers. */
export async function spawnRedisServer(port: number, args: string[]): Promise<EmbeddedRedis> {
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--maxmemory-policy", "noeviction", ...args],
    { stdio: "ignore" },
  );
  // The owner stops it explicitly; until then it must not keep the owner's event loop alive.
  child.unref();
  const url = `redis://127.0.0.1:${port}`;
  await waitUntilAnswers(port, child);
  return {
    url,
    port,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        // Held again while it stops: an unref'd child would let the process end before its
        // exit event, as if the owner had finished (a test run would then exit 0 whatever failed).
        child.ref();
        child.kill("SIGTERM");
      }),
  };
}

async function waitUntilAnswers(port: number, child: ChildProcess, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not answer on port ${port} within ${deadlineMs} ms`);
}

/**
 * One PING over a bare socket. A Redis client would do, but closing one whose first
 * connection failed leaves a timer that holds the process for seconds.
 */
function answersPing(port: number): Promise<boolean> {
  return askOnce(port, "PING", (reply) => reply.startsWith("+PONG"));
}

/** Sends one inline command over a bare socket and tests its first reply. */
export function askOnce(port: number, command: string, test: (reply: string) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.once("data", (data) => done(test(data.toString())));
  });
}
export { startEmbeddedCluster, type EmbeddedCluster, type EmbeddedClusterOptions } from "./cluster.js";
