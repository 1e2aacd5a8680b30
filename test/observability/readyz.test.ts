import { spawn, type ChildProcess } from "node:child_process";
import { createLogger } from "@hookbus/core/runtime";
import { startEmbeddedRedis, type EmbeddedRedis } from "@hookbus/dev-redis";
import { startIngest, type RunningIngest } from "@hookbus/ingest";
import { startWorker, type RunningWorker } from "@hookbus/worker";
import { testConfig, waitFor } from "../support/harness.js";

/** The contract's bound for a readiness answer: orchestrators probe with short timeouts. */
const READYZ_DEADLINE_MS = 1000;

const silent = createLogger("test", "silent");
let redis: EmbeddedRedis;
let restartedRedis: ChildProcess | undefined;
let ingest: RunningIngest;
let worker: RunningWorker;
let opsUrls: { ingest: string; worker: string };

async function probe(url: string): Promise<{ status: number; elapsedMs: number }> {
  const started = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await response.body?.cancel();
  return { status: response.status, elapsedMs: performance.now() - started };
}

/** A redis-server on the port the first one had, so the apps' connections find it again. */
async function restartRedisOn(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  await new Promise((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  return child;
}

beforeAll(async () => {
  // A Redis of this file's own, since the test stops it.
  redis = await startEmbeddedRedis();
  const config = { ...testConfig(), redisUrl: redis.url };
  ingest = await startIngest(config, { logger: silent });
  worker = await startWorker(config, { logger: silent });
  opsUrls = { ingest: ingest.url, worker: `http://127.0.0.1:${worker.metricsPort}` };
});

afterAll(async () => {
  await worker.close();
  await ingest.close();
  await redis.stop();
  if (restartedRedis) await stopProcess(restartedRedis);
});

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
}

test("/readyz of ingest and worker is 503 within a second while Redis is down, /healthz stays 200, and both are ready again when Redis is back", async () => {
  for (const url of Object.values(opsUrls)) expect((await probe(`${url}/readyz`)).status).toBe(200);

  await redis.stop();
  // Several rounds: the connections go through different states (closing, reconnecting) while
  // Redis is away, and each must answer in time.
  for (let round = 0; round < 5; round++) {
    for (const [app, url] of Object.entries(opsUrls)) {
      const ready = await probe(`${url}/readyz`);
      expect({ app, status: ready.status, inTime: ready.elapsedMs < READYZ_DEADLINE_MS }).toEqual({ app, status: 503, inTime: true });
      expect({ app, status: (await probe(`${url}/healthz`)).status }).toEqual({ app, status: 200 });
    }
  }

  restartedRedis = await restartRedisOn(redis.port);
  for (const [app, url] of Object.entries(opsUrls)) {
    await waitFor(async () => (await probe(`${url}/readyz`)).status === 200, `${app} to be ready again`, 10_000, 50);
  }
});
