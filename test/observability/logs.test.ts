import { createLogger } from "@hookbus/core/runtime";
import { surveySubmitted as survey } from "../fixtures/events.js";
import { startIngest, type RunningIngest } from "@hookbus/ingest";
import { startWorker, type RunningWorker } from "@hookbus/worker";
import { CapturedLogs } from "../support/captured-logs.js";
import { testConfig, waitFor } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";

const PASSWORD = "correct-horse-battery-staple-7731";
const config = testConfig({ LOG_LEVEL: "debug" });
const ingestLogs = new CapturedLogs();
const workerLogs = new CapturedLogs();
let ingest: RunningIngest;
let worker: RunningWorker;
let receiver: TestReceiver;

async function api(method: string, path: string, key: string, body?: unknown): Promise<any> {
  const response = await fetch(`${ingest.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  ingest = await startIngest(config, { logger: createLogger("hookbus-ingest", "debug", ingestLogs.destination) });
  worker = await startWorker(config, { logger: createLogger("hookbus-worker", "debug", workerLogs.destination) });
  // A failure first, so the retry path logs too.
  receiver = await TestReceiver.start((_request, index) => ({ status: index === 0 ? 503 : 200 }));
});

afterAll(async () => {
  await worker.close();
  await ingest.close();
  await receiver.stop();
});

test("logs carry the event and delivery ids of a delivery but never its secret, its basic auth password or an API key", async () => {
  const subscription = await api("POST", "/v1/subscriptions", config.adminKey, {
    url: receiver.url,
    eventTypes: ["survey.submitted"],
    auth: { type: "basic", username: "trialkit", password: PASSWORD },
    headers: { "x-team": "observability" },
    retrySchedule: ["10ms"],
  });
  expect(subscription.status).toBe(201);
  const published = await api("POST", "/v1/events", config.publisherKey, survey());
  expect(published.status).toBe(202);
  const [delivered, retried] = await receiver.waitForRequests(2);
  const deliveryId = delivered!.headers["webhook-id"] as string;
  expect(retried!.headers["webhook-id"]).toBe(deliveryId);
  const basicCredentials = (retried!.headers.authorization as string).replace(/^Basic /, "");
  expect(Buffer.from(basicCredentials, "base64").toString()).toBe(`trialkit:${PASSWORD}`);

  // Both attempts have been logged once the delivery reads as delivered.
  await waitFor(
    async () => (await api("GET", `/v1/deliveries/${deliveryId}`, config.adminKey)).body.status === "delivered",
    "the delivery to be delivered",
  );
  await waitFor(() => workerLogs.lines.filter((line) => line.includes(deliveryId)).length >= 2, "both attempts in the worker's log");

  expect(ingestLogs.lines.length).toBeGreaterThan(0);
  const everything = ingestLogs.text + workerLogs.text;
  for (const line of [...ingestLogs.lines, ...workerLogs.lines]) expect(() => JSON.parse(line)).not.toThrow();
  expect(everything).toContain(published.body.id);
  expect(everything).toContain(deliveryId);
  // The ingest ties the accepted event to the request that brought it.
  const accepted = ingestLogs.lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === "event accepted");
  expect(accepted).toMatchObject({ eventId: published.body.id, requestId: expect.stringMatching(/^[\w.:-]+$/) });
  const completed = ingestLogs.lines.map((line) => JSON.parse(line)).filter((entry) => entry.requestId === accepted.requestId);
  expect(completed.map((entry) => entry.msg)).toEqual(["event accepted", "request completed"]);
  const secrets = {
    signingSecret: subscription.body.secret as string,
    signingKey: (subscription.body.secret as string).replace(/^whsec_/, ""),
    password: PASSWORD,
    basicCredentials,
    adminKey: config.adminKey,
    publisherKey: config.publisherKey,
  };
  for (const [name, secret] of Object.entries(secrets))
    expect({ name, leaked: everything.includes(secret) }).toEqual({ name, leaked: false });
});

test("each request is logged once under its request id, echoed back: the caller's when sane, else a new one; 4xx at warn; health checks not at all", async () => {
  const entries = () => ingestLogs.lines.map((line) => JSON.parse(line));
  const completedUnder = (requestId: string) => entries().filter((e) => e.requestId === requestId && e.msg === "request completed");

  const given = await fetch(`${ingest.url}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${config.publisherKey}`, "content-type": "application/json", "x-request-id": "trace-17.a:b" },
    body: JSON.stringify(survey()),
  });
  expect(given.status).toBe(202);
  expect(given.headers.get("x-request-id")).toBe("trace-17.a:b");
  const [completed] = await waitFor(() => completedUnder("trace-17.a:b").length > 0 && completedUnder("trace-17.a:b"), "its log line");
  expect(completed).toMatchObject({ level: 30, req: { method: "POST", path: "/v1/events" }, res: { statusCode: 202 } });
  expect(completed.responseTime).toEqual(expect.any(Number));
  expect(completedUnder("trace-17.a:b")).toHaveLength(1);

  const refused = await fetch(`${ingest.url}/v1/subscriptions?limit=1`, {
    headers: { authorization: `Bearer ${config.publisherKey}`, "x-request-id": "not sane; at all" },
  });
  expect(refused.status).toBe(403);
  const replaced = refused.headers.get("x-request-id")!;
  expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  const [warned] = await waitFor(() => completedUnder(replaced).length > 0 && completedUnder(replaced), "the refusal's log line");
  // Logged at warn, by path alone: no query string, no headers.
  expect(warned).toMatchObject({ level: 40, req: { method: "GET", path: "/v1/subscriptions" }, res: { statusCode: 403 } });
  expect(JSON.stringify(warned)).not.toContain("limit=1");

  const health = await fetch(`${ingest.url}/healthz`, { headers: { "x-request-id": "health-1" } });
  expect(health.headers.get("x-request-id")).toBe("health-1");
  // Its answer is in before anything would be logged for it: a line would have been written by now.
  expect(entries().filter((e) => e.requestId === "health-1")).toEqual([]);
});

test("refusals anyone can send by the thousand log at debug: malformed paths and missing or unknown keys; an address refused for its failures once at warn, with its count", async () => {
  const logs = new CapturedLogs();
  const throttled = await startIngest(
    { ...testConfig({ LOG_LEVEL: "debug", HOOKBUS_AUTH_FAILURE_LIMIT: "2" }), port: 0 },
    { logger: createLogger("hookbus-ingest", "debug", logs.destination) },
  );
  try {
    const statuses: number[] = [];
    for (const [path, key] of [
      ["/v1/events/%c0", config.adminKey],
      ["/console/assets/%c0", undefined],
      ["/v1/subscriptions", undefined],
      ...Array.from({ length: 5 }, () => ["/v1/subscriptions", "unknown-key-0123456789abcdef"]),
    ]) {
      const response = await fetch(`${throttled.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([400, 400, 401, 401, 401, 429, 429, 429]);
    const entries = () => logs.lines.map((line) => JSON.parse(line));
    await waitFor(() => entries().filter((e) => e.msg === "request completed").length === statuses.length, "a line for each request");
    const completed = entries().filter((e) => e.msg === "request completed");
    expect(completed.map((e) => [e.res.statusCode, e.level])).toEqual(statuses.map((status) => [status, 20]));
    // Nothing else above debug but the one line saying the address is refused, with its count.
    expect(entries().filter((e) => e.level > 20 && !["request completed", "ingest listening", "encryption keys"].includes(e.msg))).toEqual([
      expect.objectContaining({ level: 40, address: expect.any(String), failures: 3, limit: 2 }),
    ]);
  } finally {
    await throttled.close();
  }
});
