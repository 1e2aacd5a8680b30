import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { newEncryptionKey } from "@hookbus/core/policy";
import { loadConfig } from "@hookbus/core/runtime";
import { startEmbeddedRedis, type EmbeddedRedis } from "@hookbus/dev-redis";
import { TestHookbus, waitFor } from "./support/harness.js";

const MAINS = {
  worker: { path: fileURLToPath(new URL("../apps/worker/dist/main.js", import.meta.url)), started: "worker started" },
  ingest: { path: fileURLToPath(new URL("../apps/ingest/dist/main.js", import.meta.url)), started: "ingest listening" },
};

let redis: EmbeddedRedis | undefined;

afterEach(async () => {
  await redis?.stop();
  redis = undefined;
});

/** An app in a process of its own on `redisUrl`, with its log lines collected. */
function spawnApp(app: keyof typeof MAINS, redisUrl: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [MAINS[app].path], {
    env: {
      PATH: process.env.PATH!,
      REDIS_URL: redisUrl,
      HOOKBUS_ENCRYPTION_KEY: newEncryptionKey(),
      HOOKBUS_API_KEYS: `admin:${"a".repeat(32)}`,
      PORT: "0",
      WORKER_METRICS_PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once("exit", (code) => resolve({ code, at: Date.now() })),
  );
  const lines = (message: string) => output.split("\n").filter((line) => line.includes(`"msg":"${message}`)).length;
  const started = () => lines(MAINS[app].started) === 1;
  return { child, exited, lines, started, output: () => output };
}

test.each(["worker", "ingest"] as const)(
  "SIGTERM with Redis gone: the %s exits within HOOKBUS_SHUTDOWN_GRACE, and the outage is logged once, not at every reconnect",
  async (app) => {
    redis = await startEmbeddedRedis();
    const service = spawnApp(app, redis.url, { HOOKBUS_SHUTDOWN_GRACE: "2s" });
    try {
      await waitFor(service.started, `the ${app} to start`, 20_000);
      await redis.stop();
      redis = undefined;
      await waitFor(() => service.lines("redis unreachable") === 1, "the outage to be logged");
      // Three seconds of reconnecting: ioredis retries many times a second.
      const outageLogged = Date.now();
      await waitFor(() => Date.now() - outageLogged >= 3000, "three seconds of outage", 5000, 100);
      expect(service.lines("redis unreachable")).toBe(1);

      const signalled = Date.now();
      service.child.kill("SIGTERM");
      // Within the grace (and a margin), whether it finished closing or the grace ran out.
      const { at } = await service.exited;
      expect(at - signalled).toBeLessThan(2000 + 1500);
    } finally {
      service.child.kill("SIGKILL");
    }
  },
);

test("Redis coming back is logged once, after the one line of its outage", async () => {
  redis = await startEmbeddedRedis();
  const worker = spawnApp("worker", redis.url);
  try {
    await waitFor(worker.started, "the worker to start", 20_000);
    const port = redis.port;
    await redis.stop();
    await waitFor(() => worker.lines("redis unreachable") === 1, "the outage to be logged");
    redis = await startEmbeddedRedis({ port });
    await waitFor(() => worker.lines("redis reachable again") === 1, "the recovery to be logged", 20_000);
    expect(worker.lines("redis unreachable")).toBe(1);

    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
  } finally {
    worker.child.kill("SIGKILL");
  }
});

test("a Redis that stalls (stopped, not gone) is logged once when pings go unanswered, and once when it answers again", async () => {
  redis = await startEmbeddedRedis();
  const worker = spawnApp("worker", redis.url);
  try {
    await waitFor(worker.started, "the worker to start", 20_000);
    process.kill(redis.pid, "SIGSTOP");
    try {
      await waitFor(() => worker.lines("redis not answering") === 1, "the stall to be logged", 10_000);
    } finally {
      process.kill(redis.pid, "SIGCONT");
    }
    await waitFor(() => worker.lines("redis reachable again") === 1, "its return to be logged", 10_000);
    expect(worker.lines("redis not answering")).toBe(1);
    expect(worker.lines("redis unreachable")).toBe(0);

    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
  } finally {
    worker.child.kill("SIGKILL");
  }
});

test("a retry schedule spanning the retention window or more is refused: 422 for a subscription, a config error for the default", async () => {
  const hookbus = await TestHookbus.start({ worker: false, env: { HOOKBUS_RETENTION: "2d" } });
  try {
    const body = { url: "http://127.0.0.1:9/hook", eventTypes: ["survey.submitted"] };
    // 22 h + 22 h is 44 h; with up to 10% jitter, 48.4 h: over the 2 days.
    const refused = await hookbus.api("POST", "/v1/subscriptions", { ...body, retrySchedule: ["22h", "22h"] });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatch(/spans up to 2904m with jitter, not less than the retention of 2d/);
    expect(refused.body.issues[0].path).toEqual(["retrySchedule"]);
    const created = await hookbus.createSubscription({ ...body, retrySchedule: ["20h", "20h"] });
    expect((await hookbus.api("PATCH", `/v1/subscriptions/${created.id}`, { retrySchedule: ["3d"] })).status).toBe(422);
  } finally {
    await hookbus.stop();
  }
  expect(() =>
    loadConfig({ HOOKBUS_ENCRYPTION_KEY: newEncryptionKey(), HOOKBUS_RETENTION: "1h", HOOKBUS_RETRY_SCHEDULE: "30m,30m" }),
  ).toThrow(/HOOKBUS_RETRY_SCHEDULE: the retry schedule spans up to 66m with jitter, not less than the retention of 1h/);
});
