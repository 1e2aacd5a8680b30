// With the timing tests, on its own: the steady load it makes for half a minute would be what
// the tests running beside it measured.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { startEmbeddedRedis, type EmbeddedRedis } from "@hookbus/dev-redis";
import { recordUpdated } from "./fixtures/events.js";
import { testConfig, waitFor } from "./support/harness.js";

const INGEST_MAIN = fileURLToPath(new URL("../apps/ingest/dist/main.js", import.meta.url));
const HEAP_PROBE = fileURLToPath(new URL("./support/heap-probe.cjs", import.meta.url));

/** How long Redis is gone: a minute shows nothing more than 15 s of the same load does (the growth is steady), in a test of bearable length. */
const OUTAGE_MS = 15_000;
/** Load with Redis up first, so that the heap measured before the outage is the one this load needs. */
const WARM_UP_MS = 3_000;

let redis: EmbeddedRedis | undefined;
let ingest: ChildProcess | undefined;
const dataDir = mkdtempSync(join(tmpdir(), "hookbus-outage-"));

afterAll(async () => {
  ingest?.kill("SIGKILL");
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * The ingest in a process of its own, so that its memory is its own, with the heap probe
 * loaded, and logging to a file (a pipe this busy test read late would hold the logs in the
 * ingest's memory); resolves once it listens.
 */
async function spawnIngest(env: Record<string, string>) {
  const logFile = join(dataDir, "ingest.log");
  const heapFile = join(dataDir, "heap");
  const child = spawn(process.execPath, ["--expose-gc", "--require", HEAP_PROBE, INGEST_MAIN], {
    env: { PATH: process.env.PATH!, ...env, LOG_LEVEL: "info", HEAP_PROBE_FILE: heapFile },
    stdio: ["ignore", openSync(logFile, "w"), "ignore"],
  });
  const port = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`the ingest exited (${child.exitCode}) before it listened`);
    return /"port":(\d+).*"msg":"ingest listening"/.exec(readFileSync(logFile, "utf8"))?.[1];
  }, "the ingest to listen");
  let probes = 0;
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    /** The heap the ingest holds after a full collection, in bytes. */
    heapInUse: async (): Promise<number> => {
      child.kill("SIGUSR2");
      const lines = await waitFor(() => {
        const written = existsSync(heapFile) ? readFileSync(heapFile, "utf8").trim().split("\n") : [];
        return written.length > probes ? written : undefined;
      }, "the ingest's heap probe");
      return Number(lines[probes++]);
    },
  };
}

/**
 * Publishes at a steady few hundred a second: every 10 ms two single publishes, and every
 * 30 ms a batch of 30 events near their largest (each field 1,000 characters, so about 90 KiB
 * a batch). Remembers which events were refused (503, or an item's error), by when they were sent.
 */
function steadyLoad(url: string, key: string) {
  /** formId -> when its publish was sent. */
  const refused = new Map<string, number>();
  let sent = 0;
  let inFlight = 0;
  let tick = 0;
  const post = async (path: string, body: unknown, formIds: string[]) => {
    const sentAt = Date.now();
    inFlight++;
    try {
      const response = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as { items?: { id?: string }[] };
      formIds.forEach((formId, i) => {
        if (response.status >= 300 || (answer.items && !answer.items[i]?.id)) refused.set(formId, sentAt);
      });
    } catch {
      for (const formId of formIds) refused.set(formId, sentAt);
    } finally {
      inFlight--;
    }
  };
  const large = (formId: string) => ({ type: "record.updated", data: { transId: "t".repeat(1000), formId, formName: "n".repeat(1000) } });
  const timer = setInterval(() => {
    for (let i = 0; i < 2; i++) {
      const formId = `single-${sent++}`;
      void post("/v1/events", { ...recordUpdated(formId) }, [formId]);
    }
    if (tick++ % 3 === 0) {
      const formIds = Array.from({ length: 30 }, () => `batched-${sent++}-${"x".repeat(900)}`);
      void post("/v1/events/batch", { events: formIds.map(large) }, formIds);
    }
  }, 10);
  return {
    refused,
    stop: async () => {
      clearInterval(timer);
      await waitFor(() => inFlight === 0, "the publishes in flight to be answered", 30_000);
    },
  };
}

/** The formIds of every event stored under the prefix. */
async function storedFormIds(redisUrl: string, prefix: string): Promise<Set<string>> {
  const admin = new Redis(redisUrl);
  try {
    const keys: string[] = [];
    for await (const batch of admin.scanStream({ match: `${prefix}:evt:evt_*`, count: 1000 })) {
      keys.push(...(batch as string[]).filter((k) => !k.endsWith(":dlv")));
    }
    const events = keys.length ? await admin.mget(keys) : [];
    return new Set(events.flatMap((raw) => (raw ? [(JSON.parse(raw) as { data: { formId: string } }).data.formId] : [])));
  } finally {
    admin.disconnect();
  }
}

test("while Redis is gone, publishes answered 503 leave nothing behind: the ingest's heap stays flat and none of them is stored when Redis returns", async () => {
  redis = await startEmbeddedRedis({ dataDir });
  const config = testConfig({ REDIS_URL: redis.url });
  const started = await spawnIngest(config.env);
  ingest = started.child;
  const load = steadyLoad(started.url, config.publisherKey);

  await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS)); // the load's own duration, not synchronisation
  const before = await started.heapInUse();
  await redis.stop();
  const wentDown = Date.now();
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  const after = await started.heapInUse();
  const cameBack = Date.now();
  redis = await startEmbeddedRedis({ dataDir, port: redis.port });
  await load.stop();

  expect(after / before).toBeLessThan(1.2);
  // The ingest takes publishes again; by then whatever it had sent before the outage has run.
  await waitFor(
    async () =>
      (
        await fetch(`${started.url}/v1/events`, {
          method: "POST",
          headers: { authorization: `Bearer ${config.publisherKey}`, "content-type": "application/json" },
          body: JSON.stringify(recordUpdated("after")),
        })
      ).status === 202,
    "a publish to be accepted again",
    20_000,
    200,
  );
  const stored = await storedFormIds(redis.url, config.queuePrefix);
  expect(stored.size).toBeGreaterThan(0);
  // A publish in flight as Redis went down may have run there before the connection closed,
  // unanswered: only what was sent while Redis was gone must have come to nothing.
  const refusedInOutage = [...load.refused].filter(([, sentAt]) => sentAt >= wentDown && sentAt < cameBack);
  expect(refusedInOutage.length).toBeGreaterThan(1000);
  expect(refusedInOutage.filter(([formId]) => stored.has(formId))).toEqual([]);
}, 90_000);
