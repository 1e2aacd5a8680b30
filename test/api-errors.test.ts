import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus } from "./support/harness.js";

let hookbus: TestHookbus;

beforeAll(async () => {
  hookbus = await TestHookbus.start({ worker: false });
});

afterAll(async () => {
  await hookbus.stop();
});

const errorBody = { error: expect.any(String) };

test("400: a malformed JSON body", async () => {
  const response = await hookbus.api("POST", "/v1/events", '{"type": "survey.submitted", ', hookbus.config.publisherKey);
  expect(response.status).toBe(400);
  expect(response.body).toEqual({ error: "malformed JSON body" });
});

test("401: no key, or a key Hookbus does not know", async () => {
  const none = await hookbus.api("POST", "/v1/events", surveySubmitted(), null);
  expect(none.status).toBe(401);
  expect(none.body).toEqual(errorBody);
  const unknown = await hookbus.api("GET", "/v1/subscriptions", undefined, "not-a-real-key-0123456789");
  expect(unknown.status).toBe(401);
  expect(unknown.body.error).toMatch(/unknown API key/);
});

test("403: a publisher key may publish but not manage subscriptions or read deliveries", async () => {
  for (const [method, path] of [
    ["GET", "/v1/subscriptions"],
    ["POST", "/v1/subscriptions"],
    ["GET", "/v1/deliveries"],
    ["GET", "/v1/events/evt_x"],
  ]) {
    const response = await hookbus.api(method!, path!, method === "POST" ? {} : undefined, hookbus.config.publisherKey);
    expect(response.status).toBe(403);
    expect(response.body.error).toMatch(/publisher key may not/);
  }
  expect((await hookbus.publish(surveySubmitted())).status).toBe(202);
});

test("404: unknown ids and unknown routes", async () => {
  for (const path of ["/v1/events/evt_unknown", "/v1/subscriptions/sub_unknown", "/v1/deliveries/dlv_unknown", "/v1/nothing-here"]) {
    const response = await hookbus.api("GET", path);
    expect(response.status).toBe(404);
    expect(response.body).toEqual(errorBody);
  }
  expect((await hookbus.api("PATCH", "/v1/subscriptions/sub_unknown", { description: "x" })).status).toBe(404);
  expect((await hookbus.api("DELETE", "/v1/subscriptions/sub_unknown")).status).toBe(404);
});

test("413: a body over 1 MiB", async () => {
  const big = { ...recordUpdated(), data: { transId: "1", formId: "2", formName: "x".repeat(1024 * 1024) } };
  const response = await hookbus.publish(big);
  expect(response.status).toBe(413);
  expect(response.body).toEqual({ error: "body larger than 1 MiB" });
});

test("422: an unknown type, bad data and extra fields, each with its zod issues", async () => {
  const unknownType = await hookbus.publish({ type: "survey.deleted", data: {} });
  expect(unknownType.status).toBe(422);
  expect(unknownType.body).toMatchObject({ error: "invalid event", issues: [expect.objectContaining({ path: ["type"] })] });

  const badData = await hookbus.publish({
    type: "survey.submitted",
    data: { ...surveySubmitted().data, participantId: "PT-1", surveyName: undefined },
  });
  expect(badData.status).toBe(422);
  expect(badData.body.issues.map((i: any) => i.path.join("."))).toEqual(expect.arrayContaining(["data.participantId", "data.surveyName"]));

  const extra = await hookbus.publish({ ...recordUpdated(), data: { ...recordUpdated().data, fromId: "typo" } });
  expect(extra.status).toBe(422);
  expect(extra.body.issues[0]).toMatchObject({ path: ["data"], message: expect.stringMatching(/fromId/) });

  const badSubscription = await hookbus.api("POST", "/v1/subscriptions", { url: "ftp://example.com", eventTypes: [], timeoutMs: 60_000 });
  expect(badSubscription.status).toBe(422);
  expect(badSubscription.body.issues.map((i: any) => i.path[0]).sort()).toEqual(["eventTypes", "timeoutMs", "url"]);

  const reserved = await hookbus.api("POST", "/v1/subscriptions", {
    url: "https://example.com/h",
    eventTypes: ["record.updated"],
    headers: { "Webhook-Signature": "forged" },
  });
  expect(reserved.status).toBe(422);
});

test("422: a private address is refused, naming its range, unless the allow-list holds it", async () => {
  const strict = await TestHookbus.start({ worker: false, env: { HOOKBUS_ALLOWED_NETWORKS: "127.0.0.1/32" } });
  try {
    // IPv6 literals never get this far: the URL schema takes host names and IPv4 only.
    const refused: [string, string][] = [
      ["http://127.0.0.2:9/hook", "127.0.0.0/8 (loopback)"],
      ["http://0x7f.2/hook", "127.0.0.0/8 (loopback)"],
      ["http://169.254.169.254/latest", "169.254.0.0/16"],
      ["http://localhost:8080/x", "::1/128 (loopback)"],
      ["http://10.1.2.3/x", "10.0.0.0/8 (private)"],
    ];
    for (const [url, range] of refused) {
      const response = await strict.api("POST", "/v1/subscriptions", { url, eventTypes: ["record.updated"] });
      expect([url, response.status]).toEqual([url, 422]);
      expect(response.body.error).toContain(range);
      expect(response.body.issues[0].path).toEqual(["url"]);
    }
    const allowed = await strict.createSubscription({ url: "http://127.0.0.1:9/hook", eventTypes: ["record.updated"] });
    const moved = await strict.api("PATCH", `/v1/subscriptions/${allowed.id}`, { url: "http://192.168.1.1/hook" });
    expect(moved.status).toBe(422);
    expect(moved.body.error).toContain("192.168.0.0/16 (private)");
  } finally {
    await strict.stop();
  }
});

test("429: over the per-key rate limit, while what was accepted stays accepted", async () => {
  const limited = await TestHookbus.start({ worker: false, env: { HOOKBUS_RATE_LIMIT: "3" } });
  try {
    const responses = [];
    for (let i = 0; i < 6; i++) responses.push(await limited.publish({ ...surveySubmitted(), id: `key-${i}` }));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const limitedOne = responses.find((r) => r.status === 429)!;
    expect(limitedOne.body.error).toMatch(/rate limit/);
    for (const accepted of responses.filter((r) => r.status === 202)) {
      expect((await limited.api("GET", `/v1/events/${accepted.body.id}`)).status).not.toBe(404);
    }
  } finally {
    await limited.stop();
  }
});

test("a rejected request leaves what was accepted before it untouched", async () => {
  const accepted = await hookbus.publish({ ...surveySubmitted(), id: "kept-1" });
  await hookbus.publish({ ...surveySubmitted(), id: "kept-1", data: { broken: true } });
  const event = await hookbus.api("GET", `/v1/events/${accepted.body.id}`);
  expect(event.body.data).toEqual(surveySubmitted().data);
});

test("the queue dashboard is for admin keys only, and a browser is asked for one", async () => {
  const anonymous = await fetch(`${hookbus.url}/admin/queues`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic realm="Hookbus admin"/);
  const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`admin:${key}`).toString("base64")}` });
  expect((await fetch(`${hookbus.url}/admin/queues`, { headers: basic(hookbus.config.publisherKey) })).status).toBe(403);

  const page = await fetch(`${hookbus.url}/admin/queues`, { headers: basic(hookbus.config.adminKey) });
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<html/i);
  const queues = await fetch(`${hookbus.url}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${hookbus.config.adminKey}` } });
  const names = ((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
  expect(names).toEqual(["deliver", "deliver-sync", "erasure", "replay", "route", "schedule"]);
});
