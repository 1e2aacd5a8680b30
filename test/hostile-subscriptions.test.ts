import { Keys } from "@hookbus/core/store";
import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus } from "./support/harness.js";
import { ReceiverPool, TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;

beforeAll(async () => {
  hookbus = await TestHookbus.start();
});

afterAll(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

const receivers = new ReceiverPool();

// Nothing of this type is published here: no delivery is ever attempted to these.
const valid = { url: "http://127.0.0.1:9/x", eventTypes: ["schedule.triggered"] };

/** The 422's issues as "path: message" lines. */
async function refusal(body: Record<string, unknown>, method = "POST", path = "/v1/subscriptions"): Promise<string[]> {
  const response = await hookbus.api(method, path, body);
  expect([JSON.stringify(body).slice(0, 200), response.status]).toEqual([JSON.stringify(body).slice(0, 200), 422]);
  return (response.body.issues as { path: (string | number)[]; message: string }[]).map(
    ({ path, message }) => `${path.join(".")}: ${message}`,
  );
}

test("a URL with a user name or password is refused, pointing to the Basic auth fields; a query string is taken", async () => {
  for (const url of ["http://alice:pw@hooks.example.com/x?token=T", "https://alice@hooks.example.com/", "https://:pw@hooks.example.com/"]) {
    expect(await refusal({ ...valid, url })).toEqual([expect.stringMatching(/^url: .*user name or password.*auth .*basic/)]);
  }
  const { id } = await hookbus.createSubscription(valid);
  expect(await refusal({ url: "http://alice:pw@hooks.example.com/x" }, "PATCH", `/v1/subscriptions/${id}`)).toHaveLength(1);
  expect((await hookbus.api("POST", "/v1/subscriptions", { ...valid, url: "http://127.0.0.1:9/x?token=T" })).status).toBe(201);
});

test("a URL's query string is sealed at rest and sent to the receiver; admins see the URL as given, subscription.disabled without its query", async () => {
  const token = "token-9e1f0c77-plaintext";
  const gone = await receivers.start(() => ({ status: 410 }));
  const ops = await receivers.start();
  await hookbus.createSubscription({ url: ops.url, eventTypes: ["subscription.disabled"] });
  const url = `${gone.url}?token=${token}`;
  const subscription = await hookbus.createSubscription({ url, eventTypes: ["survey.submitted"] });
  expect(subscription.url).toBe(url);
  expect((await hookbus.api("GET", `/v1/subscriptions/${subscription.id}`)).body.url).toBe(url);
  const stored = (await hookbus.redisCommand("GET", new Keys(hookbus.config.queuePrefix).subscription(subscription.id))) as string;
  expect(stored).toContain(subscription.id);
  expect(stored).not.toContain(token);

  await hookbus.publish(surveySubmitted());
  const [attempt] = await gone.waitForRequests(1);
  expect(attempt!.path).toBe(`/hook?token=${token}`);
  const [announcement] = await ops.waitForRequests(1);
  expect(announcement!.body).not.toContain(token);
  expect(JSON.parse(announcement!.body)).toMatchObject({
    type: "subscription.disabled",
    data: { subscriptionId: subscription.id, url: gone.url },
  });
});

test("headers about the connection, which no receiver can be sent, are refused by name", async () => {
  for (const name of [
    "Transfer-Encoding",
    "Upgrade",
    "Keep-Alive",
    "Expect",
    "Connection",
    "TE",
    "Trailer",
    "Proxy-Authorization",
    "proxy-connection",
  ]) {
    expect(await refusal({ ...valid, headers: { [name]: "x" } })).toEqual([
      `headers.${name}: Invalid key in record: a connection-level header, which no receiver can be sent`,
    ]);
  }
  for (const name of ["Host", "Content-Length"]) {
    expect(await refusal({ ...valid, headers: { [name]: "1" } })).toEqual([
      `headers.${name}: Invalid key in record: set by Hookbus itself`,
    ]);
  }
  const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`X-H${i}`, "v"]));
  expect(await refusal({ ...valid, headers: many })).toEqual(["headers: at most 50 headers"]);
});

test("every number and list has bounds the engine can honour, and the 422 names the bound", async () => {
  expect(await refusal({ ...valid, ratePerSecond: 1e-15 })).toEqual(["ratePerSecond: at least 1/86400 (one a day)"]);
  expect(await refusal({ ...valid, ratePerSecond: 20_000 })).toEqual(["ratePerSecond: at most 10000"]);
  expect(await refusal({ status: "failed", ratePerSecond: 1e-15 }, "POST", "/v1/deliveries/replay")).toEqual([
    "ratePerSecond: at least 1/86400 (one a day)",
  ]);
  expect(await refusal({ ...valid, retrySchedule: ["5s", "99999999999999999999w"] })).toEqual([
    "retrySchedule.1: at most 1w (604800000 ms)",
  ]);
  expect(await refusal({ ...valid, retrySchedule: ["8d"] })).toEqual(["retrySchedule.0: at most 1w (604800000 ms)"]);
  expect(await refusal({ ...valid, timeoutMs: 1e9 })).toEqual([expect.stringMatching(/^timeoutMs: .*30000/)]);
  expect(await refusal({ ...valid, maxInFlight: 1e9 })).toEqual([expect.stringMatching(/^maxInFlight: .*1000/)]);
  expect(await refusal({ ...valid, eventTypes: Array(101).fill("schedule.triggered") })).toEqual([
    expect.stringMatching(/^eventTypes: .*100/),
  ]);
  // Filter lists: 1,000 entries of 1,000 characters at most.
  expect(await refusal({ ...valid, filter: { formIds: Array.from({ length: 1001 }, (_, i) => `f${i}`) } })).toEqual([
    expect.stringMatching(/^filter.formIds: .*1000/),
  ]);
  expect(await refusal({ ...valid, filter: { surveyNames: ["x".repeat(1001)] } })).toEqual([
    expect.stringMatching(/^filter.surveyNames.0: .*1000/),
  ]);
  const largest = { ...valid, filter: { surveyNames: Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(1000, "x")) } };
  expect((await hookbus.api("POST", "/v1/subscriptions", largest)).status).toBe(201);
});

test("a batch of a thousand invalid items answers a few issues per item, saying how many there were", async () => {
  const item = { type: "survey.submitted", data: {} };
  const response = await hookbus.api("POST", "/v1/events/batch", { events: Array(1000).fill(item) }, hookbus.config.publisherKey);
  expect(response.status).toBe(202);
  for (const answer of response.body.items) {
    expect(answer.error).toMatch(/^invalid event \(the first 3 of \d+ issues\)$/);
    expect(answer.issues).toHaveLength(3);
  }
});

test("a receiver at an IPv6 literal is taken and delivered to when its network is allowed; a blocked one is refused", async () => {
  const receiver = await TestReceiver.startOn(0, undefined, "::1");
  try {
    expect(receiver.url).toMatch(/^http:\/\/\[::1\]:\d+\/hook$/);
    // The harness allows ::1/128.
    await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] });
    await hookbus.publish(recordUpdated());
    const [request] = await receiver.waitForRequests(1);
    expect(JSON.parse(request!.body)).toMatchObject({ type: "record.updated" });
  } finally {
    await receiver.stop();
  }
  for (const url of ["http://[fd00::1]/x", "http://[fe80::1]/x", "http://[::ffff:169.254.169.254]/x", "http://[2001:db8::1]/x"]) {
    expect(await refusal({ ...valid, url })).toEqual([
      expect.stringMatching(/^url: .*(fc00::\/7|fe80::\/10|169\.254\.0\.0\/16|2001:db8::\/32)/),
    ]);
  }
});
