#!/usr/bin/env node
// `npm run bench`: Hookbus against a direct HTTP POST to the same receiver, measured side by
// side in one run (the machines are shared and noisy: only ratios within a run mean much).
// Ingest and worker run as their own processes, as `npm start` runs them.
import { fork, spawn } from "node:child_process";
import http from "node:http";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { newEncryptionKey } from "@hookbus/core/policy";
import { createContext, createLogger, loadConfig, runnable } from "@hookbus/core/runtime";
import { startEmbeddedCluster, startEmbeddedRedis } from "@hookbus/dev-redis";

/** One key for the apps and for this script, which reads the subscriptions they stored. */
const ENCRYPTION_KEY = newEncryptionKey();

const { values: options } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    events: { type: "string", default: "5000" },
    concurrency: { type: "string", default: "64" },
    rate: { type: "string", default: "500" },
    replay: { type: "string", default: "0" },
    soak: { type: "string", default: "100000" },
    workers: { type: "string", default: "1" },
    cluster: { type: "boolean", default: false },
    schedules: { type: "string", default: "10000" },
    /** One scenario alone: "ordered" (ordered against unordered, a quick look with a small --events), "throughput" (default cap against uncapped) or "schedules". */
    only: { type: "string" },
  },
});
const SYNC_REQUESTS = Number(options.requests);
const ASYNC_EVENTS = Number(options.events);
const CONCURRENCY = Number(options.concurrency);
/** Events per second for the fixed-rate latency measure. */
const FIXED_RATE = Number(options.rate);
/** Events for the memory soak (resident memory across the run, in tenths); 0 skips it. */
const SOAK_EVENTS = Number(options.soak);
/** Worker processes, as `--scale worker=N` would run them. */
const WORKERS = Number(options.workers);
/** Run on a 3-master Redis Cluster (REDIS_CLUSTER_NODES) instead of one Redis. */
const ON_CLUSTER = options.cluster;
/** Dead letters for the bulk-replay scenario; 0 skips it. */
const REPLAY_DEAD_LETTERS = Number(options.replay);
/** Ordering keys the events of the ordered scenario are spread over. */
const ORDERING_KEYS = 1000;
/** Schedules due at the same moment for the schedules scenario; 0 skips it. */
const SCHEDULES = Number(options.schedules);
const ONLY = options.only;
if (ONLY !== undefined && !["ordered", "throughput", "schedules"].includes(ONLY))
  throw new Error(`--only takes "ordered", "throughput" or "schedules", not "${ONLY}"`);
const root = fileURLToPath(new URL("..", import.meta.url));
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const event = (i, type = "record.updated") => ({
  type,
  data: {
    transId: String(i),
    formId: "319",
    formName: "Sample Form",
    ...(type === "record.review_changed" ? { workflow: { id: "2", name: "Monitor Review" } } : {}),
  },
});

function post(url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const request = http.request(
      url,
      { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...headers } },
      (response) => {
        const chunks = [];
        response.on("data", (c) => chunks.push(c));
        response.on("end", () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }));
      },
    );
    request.on("error", reject);
    request.end(payload);
  });
}

/**
 * The receiver, a process of its own (scripts/bench-receiver.mjs): in this one, its answers
 * would queue behind the publishers' work and every delivery would look slower than it is.
 * `setOnRequest(f)` is told each arrival: the event's transId and when it arrived (see now()).
 */
function startReceiver() {
  const child = fork(fileURLToPath(new URL("./bench-receiver.mjs", import.meta.url)), [], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  let onRequest = () => undefined;
  return new Promise((resolve) =>
    child.on("message", (message) => {
      if (message.port)
        resolve({
          url: `http://127.0.0.1:${message.port}/hook`,
          pid: child.pid,
          stop: () => child.kill(),
          setOnRequest: (f) => (onRequest = f),
        });
      for (const { transId, at } of message.arrivals ?? []) onRequest(transId, at);
    }),
  );
}

/** The wall clock in ms with sub-millisecond precision, as the receiver process reads it. */
const now = () => performance.timeOrigin + performance.now();

function startApp(script, env) {
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE] : []), script],
    { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] },
  );
  return child;
}

async function waitUntil(probe, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** CPU ms per delivery of the three Hookbus processes together. */
const hookbusCpu = (r) => r.cpuMsPerDelivery.ingest + r.cpuMsPerDelivery.worker + r.cpuMsPerDelivery.redis;
/** How many cores the whole run kept busy: every process's CPU per delivery times deliveries per second. */
const cores = (r) => (((hookbusCpu(r) + r.benchCpuMsPerDelivery) * r.hookbusPerSecond) / 1000).toFixed(2);
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (n) => n.toFixed(2);

async function timed(fn) {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Sync: each round sends one direct POST and one sync publish, in alternating order. A sync
 * publish is also split at the moment its attempt reaches the receiver: the way there
 * (ingest, Redis, worker) and the way back (recording, reporting, answering).
 */
async function benchSync(ingestUrl, publisherKey, receiver) {
  const direct = [];
  const viaHookbus = [];
  const toReceiver = [];
  const auth = { authorization: `Bearer ${publisherKey}` };
  const arrivals = new Map();
  const sentAt = new Map();
  receiver.setOnRequest((transId, at) => arrivals.set(transId, at));
  for (let i = 0; i < SYNC_REQUESTS + 200; i++) {
    const measureDirect = () => timed(() => post(receiver.url, event(i)));
    const measureHookbus = () =>
      timed(async () => {
        sentAt.set(`sync-${i}`, now());
        const response = await post(`${ingestUrl}/v1/events`, event(`sync-${i}`), auth);
        const outcome = JSON.parse(response.body).sync?.[0]?.outcome;
        if (outcome !== "delivered") throw new Error(`sync publish answered ${response.status} ${response.body}`);
      });
    // Alternate which goes first, so neither always meets a warmer cache or a quieter moment.
    let directMs, hookbusMs;
    if (i % 2) {
      directMs = await measureDirect();
      hookbusMs = await measureHookbus();
    } else {
      hookbusMs = await measureHookbus();
      directMs = await measureDirect();
    }
    if (i >= 200) {
      direct.push(directMs);
      viaHookbus.push(hookbusMs);
    }
  }
  // The receiver tells of arrivals a few milliseconds late.
  await waitUntil(async () => arrivals.has(`sync-${SYNC_REQUESTS + 199}`), "the receiver's last arrivals");
  for (let i = 200; i < SYNC_REQUESTS + 200; i++) toReceiver.push(arrivals.get(`sync-${i}`) - sentAt.get(`sync-${i}`));
  for (const list of [direct, viaHookbus, toReceiver]) list.sort((x, y) => x - y);
  return {
    direct: { p50: percentile(direct, 50), p99: percentile(direct, 99) },
    hookbus: { p50: percentile(viaHookbus, 50), p99: percentile(viaHookbus, 99) },
    toReceiver: { p50: percentile(toReceiver, 50), p99: percentile(toReceiver, 99) },
  };
}

/** Resident memory of processes now, together, in MiB, from /proc. */
function rssMiB(pids) {
  return sum(pids.map((pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024));
}

/** CPU seconds (user + system) processes have used so far, together, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pids) {
  return sum(
    pids.map((pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100;
    }),
  );
}

const sum = (values) => values.reduce((total, v) => total + v, 0);

/** The workers' slot-overhold histogram, summed: cumulative counts by upper bound (seconds). */
async function slotOverhold(metricsPorts) {
  const buckets = new Map();
  for (const port of metricsPorts) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const [, le, count] of text.matchAll(/^hookbus_endpoint_slot_overhold_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm))
      buckets.set(le, (buckets.get(le) ?? 0) + Number(count));
  }
  return buckets;
}

/** p50 and p99 (ms) of what was observed between two readings, interpolated within a bucket as Prometheus does. */
function overholdPercentiles(before, after) {
  const bounds = [...after.keys()]
    .filter((le) => le !== "+Inf")
    .map(Number)
    .sort((a, b) => a - b);
  const counts = bounds.map((le) => after.get(String(le)) - (before.get(String(le)) ?? 0));
  const total = after.get("+Inf") - (before.get("+Inf") ?? 0);
  const quantile = (q) => {
    const rank = q * total;
    for (let i = 0; i < bounds.length; i++) {
      if (counts[i] >= rank) {
        const [lower, below] = i === 0 ? [0, 0] : [bounds[i - 1], counts[i - 1]];
        return (lower + ((bounds[i] - lower) * (rank - below)) / Math.max(1, counts[i] - below)) * 1000;
      }
    }
    return bounds[bounds.length - 1] * 1000;
  };
  return total > 0 ? { p50: quantile(0.5), p99: quantile(0.99) } : { p50: NaN, p99: NaN };
}

/** Runs `count` sends, CONCURRENCY at a time. */
async function runPool(count, send) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await send(next++);
    }),
  );
}

/** Counts deliveries at the receiver and times each from its publish, keyed by the event's transId. */
function trackDeliveries(receiver, expected) {
  const sentAt = new Map();
  const latencies = [];
  let received = 0;
  let allReceived;
  const done = new Promise((resolve) => (allReceived = resolve));
  receiver.setOnRequest((transId, arrivedAt) => {
    received++;
    const at = sentAt.get(transId);
    if (at) latencies.push(arrivedAt - at);
    if (received === expected) allReceived();
  });
  return { sent: (id) => sentAt.set(id, now()), done, latencies };
}

/**
 * Async: deliveries/s from publish to the receiver at CONCURRENCY publishers, against direct
 * POSTs at the same concurrency in the same run, and the CPU each process spent per delivery.
 */
async function benchAsync(
  ingestUrl,
  publisherKey,
  receiver,
  type,
  fanOut,
  pids,
  { batchSize = 1, orderingKeys = 0, size = ASYNC_EVENTS } = {},
) {
  // With ordering keys, event i is the i-th event's key's next: keys take turns.
  const published = (i) => (orderingKeys > 0 ? { ...event(i, type), orderingKey: `key-${i % orderingKeys}` } : event(i, type));
  const auth = { authorization: `Bearer ${publisherKey}` };
  const events = Math.round(size / fanOut / batchSize) * batchSize;
  const receiverCpu = () => cpuSeconds([receiver.pid]) * 1000;
  const directCpuBefore = process.cpuUsage();
  const directReceiverBefore = receiverCpu();
  let directArrived = 0;
  receiver.setOnRequest(() => directArrived++);
  const directMs = await timed(() => runPool(events * fanOut, (i) => post(receiver.url, event(i, type))));
  // The receiver tells of arrivals a few milliseconds late: the direct ones must not count as Hookbus's.
  await waitUntil(async () => directArrived === events * fanOut, "the direct POSTs' arrivals");
  const directCpu = process.cpuUsage(directCpuBefore);
  const directCpuMs = (directCpu.user + directCpu.system) / 1000 + receiverCpu() - directReceiverBefore;

  const tracking = trackDeliveries(receiver, events * fanOut);
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const ownCpuBefore = process.cpuUsage();
  const receiverBefore = receiverCpu();
  const hookbusMs = await timed(async () => {
    await runPool(events / batchSize, async (request) => {
      const ids = Array.from({ length: batchSize }, (_, j) => request * batchSize + j);
      for (const i of ids) tracking.sent(String(i));
      const response =
        batchSize === 1
          ? await post(`${ingestUrl}/v1/events`, published(ids[0]), auth)
          : await post(`${ingestUrl}/v1/events/batch`, { events: ids.map(published) }, auth);
      if (response.status !== 202) throw new Error(`publish answered ${response.status} ${response.body}`);
    });
    await tracking.done;
  });
  const deliveries = events * fanOut;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const cpuMsPerDelivery = Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, ((cpuSeconds(pid) - cpuBefore[name]) * 1000) / deliveries]),
  );
  // What this process (publishers and receiver) spent beside Hookbus: with it, the whole machine's share.
  const benchCpuMsPerDelivery = ((ownCpu.user + ownCpu.system) / 1000 + receiverCpu() - receiverBefore) / deliveries;
  return {
    directPerSecond: deliveries / (directMs / 1000),
    // This process sends the direct POSTs and the receiver's answers them: a whole POST's CPU, both ends.
    directCpuMsPerRequest: directCpuMs / deliveries,
    hookbusPerSecond: deliveries / (hookbusMs / 1000),
    cpuMsPerDelivery,
    benchCpuMsPerDelivery,
  };
}

/**
 * An ordered subscription (one key's deliveries one at a time, in publish order) against an
 * unordered one, on the same events spread over ORDERING_KEYS keys, at the default endpoint
 * cap, in the same run: what per-key order costs.
 */
async function benchOrdering(ingestUrl, publisherKey, receiver, pids, subscribe, unsubscribe) {
  const runs = { none: [], key: [] };
  // In the order none, key, key, none: a machine warming up or slowing down over the run weighs on both alike.
  for (const ordering of ["none", "key", "key", "none"]) {
    const id = await subscribe({ url: receiver.url, eventTypes: ["record.created"], ordering });
    runs[ordering].push(await benchAsync(ingestUrl, publisherKey, receiver, "record.created", 1, pids, { orderingKeys: ORDERING_KEYS }));
    await unsubscribe(id);
  }
  return { none: meanOfRuns(runs.none), key: meanOfRuns(runs.key) };
}

/** Several runs of one measure summed up field by field (numbers nested in objects too), by `of` (a list of numbers to one). */
function combineRuns(runs, of) {
  if (typeof runs[0] === "number") return of(runs);
  return Object.fromEntries(
    Object.keys(runs[0]).map((key) => [
      key,
      combineRuns(
        runs.map((run) => run[key]),
        of,
      ),
    ]),
  );
}

const meanOfRuns = (runs) => combineRuns(runs, (values) => sum(values) / values.length);

/** The median, of an even count the mean of the middle two. */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[Math.floor(middle)];
}

function printOrdering({ none, key }) {
  console.log(
    `\nOrdered (${ORDERING_KEYS} keys) against unordered, ${ASYNC_EVENTS} deliveries a run, default cap, each the mean of two runs in the order none, key, key, none`,
  );
  console.log("| subscription | deliveries/s | CPU ms per delivery: ingest | worker | Redis |\n|---|---|---|---|---|");
  for (const [name, r] of [
    ["ordering none", none],
    [`ordering key, ${ORDERING_KEYS} keys`, key],
  ]) {
    const cpu = r.cpuMsPerDelivery;
    console.log(`| ${name} | ${r.hookbusPerSecond.toFixed(0)} | ${ms(cpu.ingest)} | ${ms(cpu.worker)} | ${ms(cpu.redis)} |`);
  }
  console.log(`ordered: ${((key.hookbusPerSecond / none.hookbusPerSecond) * 100).toFixed(0)}% of the unordered rate`);
}

/** Publish-to-receiver latency with events published at a fixed rate, not as fast as possible. */
async function benchFixedRate(ingestUrl, publisherKey, receiver, type, count) {
  const auth = { authorization: `Bearer ${publisherKey}` };
  const tracking = trackDeliveries(receiver, count);
  const interval = 1000 / FIXED_RATE;
  const started = performance.now();
  const publishes = [];
  for (let i = 0; i < count; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    tracking.sent(`rate-${i}`);
    publishes.push(post(`${ingestUrl}/v1/events`, { ...event(i, type), data: { ...event(i, type).data, transId: `rate-${i}` } }, auth));
  }
  await Promise.all(publishes);
  await tracking.done;
  const sorted = tracking.latencies.sort((x, y) => x - y);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

/**
 * Memory soak: SOAK_EVENTS events in batches of 100, at most 8 requests in flight, with each
 * process's resident memory sampled every 100 ms and averaged over each tenth of the
 * deliveries. A leak shows as the last tenth well above the first.
 */
async function benchSoak(ingestUrl, publisherKey, receiver, type, pids) {
  const auth = { authorization: `Bearer ${publisherKey}` };
  const tenth = SOAK_EVENTS / 10;
  const windows = Array.from({ length: 10 }, () => Object.fromEntries(Object.keys(pids).map((name) => [name, []])));
  let received = 0;
  let allReceived;
  const done = new Promise((resolve) => (allReceived = resolve));
  receiver.setOnRequest(() => {
    if (++received === SOAK_EVENTS) allReceived();
  });
  const sampler = setInterval(() => {
    const window = windows[Math.min(9, Math.floor(received / tenth))];
    for (const [name, pid] of Object.entries(pids)) window[name].push(rssMiB(pid));
  }, 100);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < SOAK_EVENTS) {
        const first = next;
        next += 100;
        const events = Array.from({ length: Math.min(100, SOAK_EVENTS - first) }, (_, j) => event(first + j, type));
        const response = await post(`${ingestUrl}/v1/events/batch`, { events }, auth);
        if (response.status !== 202) throw new Error(`publish answered ${response.status} ${response.body}`);
      }
    }),
  );
  await done;
  clearInterval(sampler);
  const mean = (values) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
  return Object.fromEntries(Object.keys(pids).map((name) => [name, { first: mean(windows[0][name]), last: mean(windows[9][name]) }]));
}

/**
 * Bulk replay: N dead letters are written straight into the delivery log (publishing them
 * and waiting for them to fail would take most of the run), then replayed through the API
 * while the worker's resident memory is sampled.
 */
async function benchReplay(ingestUrl, adminKey, redisEnv, receiver, workerPids) {
  const admin = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
  const created = await fetch(`${ingestUrl}/v1/subscriptions`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ url: receiver.url, eventTypes: ["record.review_changed"] }),
  });
  const { id: subscriptionId } = await created.json();
  const context = createContext(
    runnable(loadConfig({ ...redisEnv, HOOKBUS_ENCRYPTION_KEY: ENCRYPTION_KEY })),
    createLogger("bench", "silent"),
  );
  const subscription = await context.subscriptions.get(subscriptionId);
  const data = { transId: "1", formId: "2", formName: "Form", workflow: { id: "3", name: "Monitor Review" } };
  for (let i = 0; i < REPLAY_DEAD_LETTERS; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, REPLAY_DEAD_LETTERS - i) }, async () => {
        const { event } = await context.events.store({ type: "record.review_changed", data });
        const [routed] = await context.deliveries.route(event, [subscription]);
        await context.deliveries.recordAttempt(
          { id: routed.deliveryId, subscriptionId, eventId: event.id },
          { at: Date.now(), statusCode: 503, error: "http", durationMs: 1 },
          "failed",
        );
      }),
    );
  }
  await context.close();

  let received = 0;
  receiver.setOnRequest(() => received++);
  const rss = () => rssMiB(workerPids);
  const rssBefore = rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rss())), 100);
  const started = process.hrtime.bigint();
  const response = await fetch(`${ingestUrl}/v1/deliveries/replay`, {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ status: "failed", subscriptionId }),
  });
  const replay = await response.json();
  let progress;
  do {
    await new Promise((r) => setTimeout(r, 250));
    progress = await (await fetch(`${ingestUrl}/v1/replays/${replay.id}`, { headers: admin })).json();
  } while (progress.status !== "done");
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  return { total: replay.replayed, progress, received, seconds, rssBefore, rssPeak };
}

/** The workers' schedule fires so far, summed over their /metrics. */
async function scheduleFires(metricsPorts) {
  const counts = await Promise.all(
    metricsPorts.map(async (port) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return sum([...text.matchAll(/^hookbus_schedule_fires_total\{[^}]*\} (\d+)$/gm)].map((m) => Number(m[1])));
    }),
  );
  return sum(counts);
}

/**
 * Schedules: SCHEDULES schedules (one per participant) made through the batch API, all due at
 * the same moment, which the workers fire as fast as they can: fires per second from that
 * moment to the last fire, and the CPU each fire cost the workers and Redis. No webhook is
 * subscribed, so this is the firing alone (each fire an event stored and routed).
 */
async function benchSchedules(ingestUrl, adminKey, metricsPorts, pids) {
  const admin = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
  const firesBefore = await scheduleFires(metricsPorts);
  // Far enough ahead for every batch to be made before the moment, on a quiet machine.
  const due = Math.ceil((Date.now() + 5000 + SCHEDULES * 1.5) / 1000) * 1000;
  const madeFrom = now();
  for (let i = 0; i < SCHEDULES; i += 1000) {
    const schedules = Array.from({ length: Math.min(1000, SCHEDULES - i) }, (_, j) => ({
      name: "Daily check-in",
      data: {
        projectId: "6f1c2a4e-0b7d-4a51-9d3e-2f8b6c1e9a10",
        participantId: `b2e4d6f8-1a3c-4e5f-8a9b-${String(i + j).padStart(12, "0")}`,
        participantIdentifier: `PT-${i + j}`,
      },
      every: "1d",
      startAt: new Date(due).toISOString(),
    }));
    const response = await fetch(`${ingestUrl}/v1/schedules/batch`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ schedules }),
    });
    if (response.status !== 201) throw new Error(`schedules: ${response.status} ${await response.text()}`);
  }
  const madeSeconds = (now() - madeFrom) / 1000;
  const madeLate = Date.now() > due;
  while (Date.now() < due) await new Promise((resolve) => setTimeout(resolve, Math.min(100, due - Date.now())));
  const cpuBefore = { worker: cpuSeconds(pids.worker), redis: cpuSeconds(pids.redis) };
  await waitUntil(async () => (await scheduleFires(metricsPorts)) - firesBefore >= SCHEDULES, "every fire", 300_000);
  const seconds = (Date.now() - due) / 1000;
  const cpuMs = (which) => ((cpuSeconds(pids[which]) - cpuBefore[which]) * 1000) / SCHEDULES;
  return {
    madeSeconds,
    madeLate,
    seconds,
    perSecond: SCHEDULES / seconds,
    cpuMsPerFire: { worker: cpuMs("worker"), redis: cpuMs("redis") },
  };
}

function reportSchedules(result) {
  console.log(
    `\nSchedules: ${SCHEDULES} due at one moment (made in ${result.madeSeconds.toFixed(1)} s${result.madeLate ? ", past the moment: the rate is low" : ""}) fired in ${result.seconds.toFixed(1)} s by ${WORKERS === 1 ? "one worker" : `${WORKERS} workers`}: ${result.perSecond.toFixed(0)} fires/s; CPU per fire ${ms(result.cpuMsPerFire.worker)} ms worker, ${ms(result.cpuMsPerFire.redis)} ms Redis`,
  );
}

/** Runs of each cap in pairs, in turns which goes first: (default, uncapped), (uncapped, default), ... */
const THROUGHPUT_PAIRS = 6;

/** The throughput scenarios: what each is called, the event type it publishes, to how many subscriptions, and how it publishes. */
const THROUGHPUT_SCENARIOS = {
  fanOut1: { label: "fan-out 1", type: "record.created", fanOut: 1, options: {} },
  batched: { label: "batches of 100", type: "record.created", fanOut: 1, options: { batchSize: 100 } },
  fanOut10: { label: "fan-out 10", type: "record.review_changed", fanOut: 10, options: {} },
};

/**
 * The async throughput tables, from THROUGHPUT_PAIRS pairs of runs (`pairs`: each
 * {defaults, uncapped}): each scenario at the default cap and uncapped, the median of its runs,
 * then the one against the other as the median of the pairs' ratios, with their range. A
 * pair's two runs follow each other, so a moment when the shared machine is slow, which can
 * raise every process's CPU per delivery by a third, spoils one pair rather than a cap's mean.
 */
function printThroughput(pairs) {
  const [atDefaults, atUncapped] = ["defaults", "uncapped"].map((cap) =>
    combineRuns(
      pairs.map((pair) => pair[cap]),
      median,
    ),
  );
  console.log(
    `\nAsync: ${ASYNC_EVENTS} deliveries each, the median of ${THROUGHPUT_PAIRS} runs per cap (in pairs, each pair's first in turns default and uncapped), from ${CONCURRENCY} publishers in parallel (single-event publishes unless batched)`,
  );
  console.log(
    `| | direct POST /s | its CPU ms, both ends | Hookbus deliveries/s | ratio | CPU ms per delivery: ingest | ${WORKERS === 1 ? "worker" : `${WORKERS} workers`} | Redis | all three | publishers and receiver | cores busy | slot held beyond the answer, p50 / p99 ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|`,
  );
  for (const [cap, results] of [
    ["default cap (10 in flight)", atDefaults],
    ["uncapped (1000 in flight)", atUncapped],
  ]) {
    for (const [key, { label }] of Object.entries(THROUGHPUT_SCENARIOS)) {
      const r = results[key];
      const cpu = r.cpuMsPerDelivery;
      console.log(
        `| ${label}, ${cap} | ${r.directPerSecond.toFixed(0)} | ${ms(r.directCpuMsPerRequest)} | ${r.hookbusPerSecond.toFixed(0)} | ${(r.hookbusPerSecond / r.directPerSecond).toFixed(2)} | ${ms(cpu.ingest)} | ${ms(cpu.worker)} | ${ms(cpu.redis)} | ${ms(hookbusCpu(r))} | ${ms(r.benchCpuMsPerDelivery)} | ${cores(r)} | ${ms(r.overhold.p50)} / ${ms(r.overhold.p99)} |`,
      );
    }
  }
  if (ON_CLUSTER) {
    console.log("\nRedis CPU ms per delivery on each master, at the default cap (its share of the cluster's):");
    for (const [key, { label }] of Object.entries(THROUGHPUT_SCENARIOS)) {
      const cpu = atDefaults[key].cpuMsPerDelivery;
      const each = Object.keys(cpu).filter((k) => k.startsWith("master "));
      console.log(`- ${label}: ${each.map((k) => `${ms(cpu[k])} (${((cpu[k] / cpu.redis) * 100).toFixed(0)}%)`).join(", ")}`);
    }
  }
  console.log(`\nAt the default cap against uncapped, in this run: the median of the ${THROUGHPUT_PAIRS} pairs (their range)`);
  const percent = (n) => (n * 100).toFixed(0);
  const spread = (ratios) => `${percent(median(ratios))}% (${percent(Math.min(...ratios))} to ${percent(Math.max(...ratios))})`;
  for (const [key, { label }] of Object.entries(THROUGHPUT_SCENARIOS)) {
    const rates = pairs.map(({ defaults, uncapped }) => defaults[key].hookbusPerSecond / uncapped[key].hookbusPerSecond);
    const cpus = pairs.map(({ defaults, uncapped }) => hookbusCpu(defaults[key]) / hookbusCpu(uncapped[key]) - 1);
    console.log(`- ${label}: ${spread(rates)} of the uncapped rate, ${spread(cpus)} more CPU per delivery`);
  }
}

/** One Redis, or a cluster of three masters: the variables that point the apps at it, its servers' pids, and how to stop it. */
async function startRedis() {
  if (ON_CLUSTER) {
    const cluster = await startEmbeddedCluster({ masters: 3 });
    return { env: { REDIS_CLUSTER_NODES: cluster.nodes }, pids: cluster.masters.map((m) => m.pid), stop: cluster.stop };
  }
  const redis = await startEmbeddedRedis();
  return { env: { REDIS_URL: redis.url }, pids: [redis.pid], stop: redis.stop };
}

async function main() {
  const redis = await startRedis();
  const receiver = await startReceiver();
  const adminKey = "bench-admin-key-0123456789";
  const publisherKey = "bench-publisher-key-0123456789";
  const port = 18000 + Math.floor(Math.random() * 1000);
  // The bench's own Redis, whatever the shell points at.
  const { REDIS_URL: _url, REDIS_CLUSTER_NODES: _nodes, ...inherited } = process.env;
  const env = {
    ...inherited,
    ...redis.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    WORKER_METRICS_PORT: "0",
    HOOKBUS_API_KEYS: `admin:${adminKey},publisher:${publisherKey}`,
    HOOKBUS_ALLOWED_NETWORKS: "127.0.0.0/8",
    HOOKBUS_ENCRYPTION_KEY: ENCRYPTION_KEY,
    HOOKBUS_RATE_LIMIT: "0",
    LOG_LEVEL: "warn",
  };
  const ingest = startApp("apps/ingest/dist/main.js", env);
  const workerMetricsPorts = Array.from({ length: WORKERS }, (_, i) => port + 1 + i);
  const workers = workerMetricsPorts.map((metricsPort) =>
    startApp("apps/worker/dist/main.js", { ...env, WORKER_METRICS_PORT: String(metricsPort) }),
  );
  const apps = [ingest, ...workers];
  const ingestUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(async () => (await fetch(`${ingestUrl}/readyz`)).ok, "the ingest");
    for (const metricsPort of workerMetricsPorts)
      await waitUntil(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok, "the worker");
    if (ONLY === "schedules") {
      const pids = { worker: workers.map((w) => w.pid), redis: redis.pids };
      return reportSchedules(await benchSchedules(ingestUrl, adminKey, workerMetricsPorts, pids));
    }
    const admin = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
    const subscribe = async (body) => {
      const response = await fetch(`${ingestUrl}/v1/subscriptions`, { method: "POST", headers: admin, body: JSON.stringify(body) });
      if (response.status !== 201) throw new Error(`subscription: ${response.status} ${await response.text()}`);
      return (await response.json()).id;
    };
    const unsubscribe = (id) => fetch(`${ingestUrl}/v1/subscriptions/${id}`, { method: "DELETE", headers: admin });
    // On a cluster each master is measured on its own too: how evenly the partitions share the work.
    const masters = ON_CLUSTER ? Object.fromEntries(redis.pids.map((pid, i) => [`master ${i + 1}`, [pid]])) : {};
    const pids = { ingest: [ingest.pid], worker: workers.map((w) => w.pid), redis: redis.pids, ...masters };
    if (ONLY === "ordered") return printOrdering(await benchOrdering(ingestUrl, publisherKey, receiver, pids, subscribe, unsubscribe));
    // Each measure has an event type of its own, so they never mix. The sync and latency
    // measures take the receiver uncapped (`maxInFlight: 1000`); the async throughput is
    // measured both at the default cap of 10 attempts in flight and uncapped.
    const uncapped = { url: receiver.url, maxInFlight: 1000 };

    const overhold = () => slotOverhold(workerMetricsPorts);
    /** One run of a scenario, to subscriptions made from `endpoint` for it alone, with the slots' overhold it saw. */
    const runScenario = async ({ type, fanOut, options }, endpoint) => {
      const ids = [];
      for (let i = 0; i < fanOut; i++) ids.push(await subscribe({ ...endpoint, eventTypes: [type] }));
      const before = await overhold();
      const result = await benchAsync(ingestUrl, publisherKey, receiver, type, fanOut, pids, options);
      const overheld = overholdPercentiles(before, await overhold());
      await Promise.all(ids.map(unsubscribe));
      return { ...result, overhold: overheld };
    };
    const endpoints = { defaults: { url: receiver.url }, uncapped };
    // Every scenario once at each cap first, unmeasured, so that neither cap is measured on code
    // the JIT has not yet compiled: after a short run of 2,000 deliveries, the next run still
    // cost the worker about 30% more CPU per delivery than the ones after it, whichever cap.
    for (const scenario of Object.values(THROUGHPUT_SCENARIOS))
      for (const endpoint of Object.values(endpoints)) await runScenario(scenario, endpoint);
    // Each scenario's runs in pairs, one at each cap, back to back, which goes first in turns: a
    // slow moment of the shared machine, or one warming up or slowing down over the run, then
    // weighs on a pair's two runs alike.
    const pairs = Array.from({ length: THROUGHPUT_PAIRS }, () => ({ defaults: {}, uncapped: {} }));
    for (const [i, pair] of pairs.entries())
      for (const [key, scenario] of Object.entries(THROUGHPUT_SCENARIOS))
        for (const cap of i % 2 === 0 ? ["defaults", "uncapped"] : ["uncapped", "defaults"])
          pair[cap][key] = await runScenario(scenario, endpoints[cap]);
    if (ONLY === "throughput") return printThroughput(pairs);
    await subscribe({ ...uncapped, eventTypes: ["record.updated"], mode: "sync" });
    const sync = await benchSync(ingestUrl, publisherKey, receiver);
    const ordering = await benchOrdering(ingestUrl, publisherKey, receiver, pids, subscribe, unsubscribe);
    await subscribe({ ...uncapped, eventTypes: ["record.created"] });
    const fixedRate = await benchFixedRate(ingestUrl, publisherKey, receiver, "record.created", FIXED_RATE * 10);
    const soak = SOAK_EVENTS > 0 ? await benchSoak(ingestUrl, publisherKey, receiver, "record.created", pids) : undefined;

    const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}`;
    console.log(`\nHookbus benchmark, ${new Date().toISOString().slice(0, 10)}, ${machine}`);
    console.log(`\nSync publish vs direct POST to the same receiver (${SYNC_REQUESTS} sequential requests each, interleaved)`);
    console.log("| | p50 ms | p99 ms |\n|---|---|---|");
    console.log(`| direct POST | ${ms(sync.direct.p50)} | ${ms(sync.direct.p99)} |`);
    console.log(`| Hookbus sync publish | ${ms(sync.hookbus.p50)} | ${ms(sync.hookbus.p99)} |`);
    console.log(`| overhead | ${ms(sync.hookbus.p50 - sync.direct.p50)} | ${ms(sync.hookbus.p99 - sync.direct.p99)} |`);
    console.log(`| of which, publish to the attempt reaching the receiver | ${ms(sync.toReceiver.p50)} | ${ms(sync.toReceiver.p99)} |`);
    printThroughput(pairs);
    printOrdering(ordering);
    console.log(
      `\npublish -> receiver latency at a fixed ${FIXED_RATE} events/s (${FIXED_RATE * 10} events): p50 ${ms(fixedRate.p50)} ms, p95 ${ms(fixedRate.p95)} ms, p99 ${ms(fixedRate.p99)} ms`,
    );
    if (soak) {
      console.log(
        `\nResident memory across ${SOAK_EVENTS} events (batches of 100), mean over the first and the last tenth of the deliveries`,
      );
      console.log("| process | first tenth MiB | last tenth MiB | change |\n|---|---|---|---|");
      for (const [name, { first, last }] of Object.entries(soak))
        console.log(`| ${name} | ${first.toFixed(0)} | ${last.toFixed(0)} | ${(((last - first) / first) * 100).toFixed(1)}% |`);
    }
    if (REPLAY_DEAD_LETTERS > 0) {
      const replay = await benchReplay(ingestUrl, adminKey, redis.env, receiver, pids.worker);
      console.log(
        `\nBulk replay of ${replay.total} dead letters: ${replay.progress.done} delivered, ${replay.progress.failed} failed, ${replay.received} received, in ${replay.seconds.toFixed(1)} s (${(replay.total / replay.seconds).toFixed(0)}/s)`,
      );
      console.log(
        `worker resident memory: ${replay.rssBefore.toFixed(0)} MiB before, ${replay.rssPeak.toFixed(0)} MiB at most during the replay`,
      );
    }
    if (ON_CLUSTER) {
      const perMaster = pids.redis.map((pid) => cpuSeconds([pid]));
      const total = sum(perMaster);
      console.log(
        `\nRedis CPU by master over the whole run: ${perMaster.map((s) => `${s.toFixed(1)} s (${((s / total) * 100).toFixed(0)}%)`).join(", ")}`,
      );
    }
    if (SCHEDULES > 0) reportSchedules(await benchSchedules(ingestUrl, adminKey, workerMetricsPorts, pids));
  } finally {
    for (const app of apps) app.kill("SIGTERM");
    await Promise.all(apps.map((app) => new Promise((r) => (app.exitCode !== null ? r() : app.once("exit", r)))));
    receiver.stop();
    agent.destroy();
    await redis.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
