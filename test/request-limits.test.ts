import { createLogger } from "@hookbus/core/runtime";
import { startIngest } from "@hookbus/ingest";
import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

const receivers = new ReceiverPool();
const alsoStop: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of alsoStop.splice(0).reverse()) await stop();
  await receivers.stopAll();
});

async function started(options: Parameters<typeof TestHookbus.start>[0]): Promise<TestHookbus> {
  const hookbus = await TestHookbus.start(options);
  alsoStop.push(() => hookbus.stop());
  return hookbus;
}

const send = (url: string, init: { key?: string; contentType?: string; body?: string; method?: string }) =>
  fetch(url, {
    method: init.method ?? "POST",
    headers: {
      ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
      ...(init.contentType ? { "content-type": init.contentType } : {}),
    },
    body: init.body,
  });

test("authentication comes before the body: no key gets 401 whatever the body, a publisher key on an admin route 403", async () => {
  const hookbus = await started({ worker: false });
  const huge = JSON.stringify({ padding: "x".repeat(2 * 1024 * 1024) });
  for (const body of ["{not json", huge]) {
    const response = await send(`${hookbus.url}/v1/events`, { contentType: "application/json", body });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: expect.stringMatching(/API key/) });
  }
  const wrongRole = await send(`${hookbus.url}/v1/subscriptions`, {
    key: hookbus.config.publisherKey,
    contentType: "application/json",
    body: "{not json",
  });
  expect(wrongRole.status).toBe(403);
  // With the right key, the body is read and judged.
  expect(
    (await send(`${hookbus.url}/v1/events`, { key: hookbus.config.publisherKey, contentType: "application/json", body: "{not json" }))
      .status,
  ).toBe(400);
});

test("415: a body that is not application/json, with a JSON error body", async () => {
  const hookbus = await started({ worker: false });
  const json = JSON.stringify(surveySubmitted());
  for (const [path, key] of [
    ["/v1/events", hookbus.config.publisherKey],
    ["/v1/subscriptions", hookbus.config.adminKey],
    ["/v1/deliveries/replay", hookbus.config.adminKey],
  ] as const) {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", undefined]) {
      const response = await send(`${hookbus.url}${path}`, { key, contentType, body: json });
      expect([path, contentType, response.status]).toEqual([path, contentType, 415]);
      expect(await response.json()).toEqual({ error: expect.stringMatching(/must be application\/json/) });
    }
  }
  const accepted = await send(`${hookbus.url}/v1/events`, {
    key: hookbus.config.publisherKey,
    contentType: "application/json; charset=utf-8",
    body: json,
  });
  expect(accepted.status).toBe(202);
});

test("429: the per-key rate limit is shared by every ingest through Redis, and says when to come back", async () => {
  const first = await started({ worker: false, env: { HOOKBUS_RATE_LIMIT: "5" } });
  // A second ingest of the same deployment: same Redis, same prefix, same keys.
  const second = await startIngest({ ...first.config, port: 0 }, { logger: createLogger("test", "silent") });
  alsoStop.push(() => second.close());
  const publish = (url: string) =>
    send(`${url}/v1/events`, { key: first.config.publisherKey, contentType: "application/json", body: JSON.stringify(surveySubmitted()) });
  // The window is one second: should the burst straddle two windows, try again.
  const limited = await waitFor(
    async () => {
      await Promise.all(Array.from({ length: 5 }, () => publish(first.url)));
      const response = await publish(second.url);
      return response.status === 429 ? response : undefined;
    },
    "a 429 from the second ingest",
    10_000,
  );
  expect(limited.headers.get("retry-after")).toBe("1");
  expect(await limited.json()).toEqual({ error: "rate limit of 5 requests per second exceeded" });
});

test("503 with Retry-After once an ingest holds its cap of sync publishes waiting; the held one still answers", async () => {
  const hookbus = await started({ env: { HOOKBUS_MAX_SYNC_WAITS: "1" } });
  // The receiver never answers: the first publish waits out its timeout.
  const endpoint = await receivers.start(() => "hang");
  const subscription = await hookbus.createSubscription({
    url: endpoint.url,
    eventTypes: ["record.updated"],
    mode: "sync",
    timeoutMs: 1000,
  });
  const waiting = hookbus.publish(recordUpdated());
  await waitFor(() => hookbus.ingest.syncWaitStats().waiting === 1, "the first publish to wait");
  const refused = await hookbus.publish(recordUpdated());
  expect(refused.status).toBe(503);
  expect(refused.headers.get("retry-after")).toBe("1");
  expect(refused.body).toEqual({ error: expect.stringMatching(/holds 1 sync publishes waiting/) });
  expect((await waiting).body.sync).toEqual([expect.objectContaining({ subscriptionId: subscription.id, outcome: "timeout" })]);
  // Room again once it answered.
  expect(hookbus.ingest.syncWaitStats().waiting).toBe(0);
});

test("/metrics of ingest and worker take a bearer token when one is set", async () => {
  const token = "metrics-token-0123456789abcdef";
  const hookbus = await started({ worker: false, env: { HOOKBUS_METRICS_TOKEN: token } });
  const worker = await hookbus.startWorker();
  for (const url of [`${hookbus.url}/metrics`, `http://127.0.0.1:${worker.metricsPort}/metrics`]) {
    const anonymous = await fetch(url);
    expect([url, anonymous.status]).toEqual([url, 401]);
    expect(await anonymous.json()).toEqual({ error: expect.stringMatching(/metrics token/) });
    expect((await fetch(url, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
    const scraped = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("hookbus_");
  }
  // Health checks stay open: orchestrators call them without credentials.
  expect((await fetch(`${hookbus.url}/healthz`)).status).toBe(200);
});
