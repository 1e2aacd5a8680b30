import type { RedisConnection } from "@hookbus/core/store";
import { deflateSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { eventTypes } from "@hookbus/schemas";
import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { openRedis, TestHookbus } from "./support/harness.js";

/**
 * Property-based tests of every route that takes a body, path parameters or a query, and of
 * the request around them (paths, percent-escapes, content encodings, header values): whatever
 * arrives, the ingest never answers 5xx, every refusal is a 4xx with a JSON error body, and a
 * refused request changes nothing in Redis. HOOKBUS_FUZZ_RUNS raises the number of inputs.
 */
const RUNS = Number(process.env.HOOKBUS_FUZZ_RUNS ?? 10_000);

let hookbus: TestHookbus;
let redis: RedisConnection;
let known: { subscriptionId: string; eventId: string; deliveryId: string };

// A digest of every key under the test's prefix and its value, in one round trip. The audit
// trail (ARGV[2], and its head) is left out: it records an action refused once its target was
// found (a replay while a generated PATCH has the subscription disabled), which is its job;
// test/audit.test.ts holds it to that, and to recording nothing of bad input or unknown ids.
const DIGEST = `
local keys = redis.call('KEYS', ARGV[1])
table.sort(keys)
local parts = {}
for _, key in ipairs(keys) do
  if key ~= ARGV[2] and key ~= ARGV[2] .. ':head' then
    parts[#parts + 1] = key
    parts[#parts + 1] = redis.call('DUMP', key) or ''
  end
end
return (#parts / 2) .. ' keys, ' .. redis.sha1hex(table.concat(parts, '\\n'))
`;
const digest = () => redis.eval(DIGEST, 0, `${hookbus.config.queuePrefix}*`, `${hookbus.config.queuePrefix}:audit`) as Promise<string>;

beforeAll(async () => {
  // No limits: a count of requests or of failed keys would change Redis under the comparison.
  hookbus = await TestHookbus.start({ worker: false, env: { HOOKBUS_RATE_LIMIT: "0", HOOKBUS_AUTH_FAILURE_LIMIT: "0" } });
  redis = openRedis(hookbus.config);
  // Something stored to aim at: a subscription with secrets, an event, and a delivery. No
  // worker runs (its housekeeping keys would change under the comparison): a sync publish makes
  // its delivery in the ingest, and with nobody to deliver it, it times out after 100 ms.
  const subscription = await hookbus.createSubscription({
    url: "http://127.0.0.1:9/closed",
    eventTypes: [...eventTypes],
    timeoutMs: 100,
    auth: { type: "basic", username: "fuzz", password: "pw" },
    headers: { "X-Token": "t" },
  });
  await hookbus.createSubscription({ url: "http://127.0.0.1:9/closed", eventTypes: ["record.updated"], mode: "sync", timeoutMs: 100 });
  const event = await hookbus.publish(recordUpdated());
  const [delivery] = await hookbus.deliveriesOf(event.body.id);
  known = { subscriptionId: subscription.id, eventId: event.body.id, deliveryId: delivery.id };
});

afterAll(async () => {
  await redis.quit();
  await hookbus.stop();
});

interface FuzzRequest {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
}

const json = fc.jsonValue({ maxDepth: 3 });
/** A field's value: mostly one of the right shape, sometimes anything at all. */
const either = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: json });
const text = fc.string({ unit: "binary", maxLength: 40 });

const urls = fc.oneof(
  fc.constantFrom(
    "https://hooks.example.com/x",
    "http://127.0.0.1:9/x",
    "http://10.0.0.1/x",
    "http://[::1]/x",
    "http://169.254.169.254/",
    "http://0x7f.1/",
    "http://localhost/",
    "ftp://example.com/",
    "https://",
    "javascript:alert(1)",
    "",
  ),
  fc.webUrl(),
  text,
);
const eventType = fc.oneof(fc.constantFrom(...eventTypes), text);
const duration = fc.oneof(fc.integer(), fc.constantFrom("5s", "1m", "2h", "0ms", "5x", "-1s", "1e3s"), text);
const time = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom("2026-01-01T00:00:00", "yesterday", "2026-13-45T99:00:00Z"),
  text,
);

const subscriptionFields = {
  url: either(urls),
  eventTypes: either(fc.array(eventType, { maxLength: 4 })),
  mode: either(fc.constantFrom("async", "sync", "both")),
  environment: either(fc.constantFrom("live", "test", "prod")),
  filter: either(
    fc.record(
      { surveyNames: fc.array(text), scheduleNames: fc.array(text), formIds: fc.array(fc.oneof(text, fc.integer())) },
      { requiredKeys: [] },
    ),
  ),
  auth: either(fc.record({ type: fc.constantFrom("basic", "bearer"), username: text, password: text }, { requiredKeys: [] })),
  headers: either(fc.dictionary(fc.oneof(fc.constantFrom("X-Ok", "Authorization", "Webhook-Id", "Bad Name"), text), text, { maxKeys: 3 })),
  timeoutMs: either(fc.oneof(fc.integer(), fc.double())),
  retrySchedule: either(fc.array(duration, { maxLength: 25 })),
  format: either(fc.constantFrom("envelope", "native", "xml")),
  legacyParameters: either(fc.boolean()),
  description: either(fc.string({ maxLength: 600 })),
  enabled: either(fc.boolean()),
  extra: json,
};
const subscriptionBody = fc.record(subscriptionFields, { requiredKeys: [] });

const eventBody = fc.record(
  {
    type: either(eventType),
    data: either(fc.oneof(fc.constant(surveySubmitted().data), fc.dictionary(text, json, { maxKeys: 6 }))),
    id: either(text),
    occurredAt: either(time),
    extra: json,
  },
  { requiredKeys: [] },
);

const replayBody = fc.record(
  {
    status: either(fc.constantFrom("pending", "retrying", "delivered", "failed", "lost")),
    subscriptionId: either(fc.oneof(fc.constant("sub_x"), text)),
    eventType: either(eventType),
    since: either(time),
    until: either(time),
    dryRun: either(fc.boolean()),
    ratePerSecond: either(fc.oneof(fc.integer(), fc.double())),
    extra: json,
  },
  { requiredKeys: [] },
);

/** Bodies that pass validation, so that the inputs reach what lies behind it too. */
const validSubscription = fc.record({
  url: fc.constantFrom("https://hooks.example.com/x", "http://127.0.0.1:9/x"),
  eventTypes: fc.subarray([...eventTypes], { minLength: 1 }),
  description: fc.string({ maxLength: 100 }),
  retrySchedule: fc.array(fc.constantFrom("5s", "1m", 1000), { maxLength: 3 }),
  headers: fc.constant({ "X-Fuzz": "1" }),
});
const validEvent = fc.constant(null).map(() => surveySubmitted());
const validReplay = fc.record({ status: fc.constantFrom("failed", "retrying"), dryRun: fc.boolean() });

/** A body: mostly JSON of the right rough shape, sometimes valid, any JSON, broken JSON, or another content type. */
const body = (shape: fc.Arbitrary<unknown>, valid: fc.Arbitrary<unknown> = shape) =>
  fc.oneof(
    { weight: 1, arbitrary: valid.map((value) => ({ body: JSON.stringify(value), contentType: "application/json" })) },
    { weight: 6, arbitrary: shape.map((value) => ({ body: JSON.stringify(value), contentType: "application/json" })) },
    { weight: 1, arbitrary: json.map((value) => ({ body: JSON.stringify(value), contentType: "application/json" })) },
    { weight: 1, arbitrary: text.map((raw) => ({ body: raw, contentType: "application/json" })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(shape, fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "application/xml"))
        .map(([value, contentType]) => ({ body: JSON.stringify(value), contentType })),
    },
  );

/** A path parameter: one of the stored ids or anything, encoded as a client would send it. */
const id = (stored: () => string) =>
  fc
    .oneof(
      fc.constant(null).map(() => stored()),
      text,
      fc.constantFrom("..", "%", "sub_", "dlv_01M880P104CT0R8JJNW16A020M"),
    )
    .map((value) => encodeURIComponent(value));
const query = fc
  .dictionary(
    fc.oneof(fc.constantFrom("limit", "cursor", "status", "subscriptionId", "eventType", "since", "until"), text),
    fc.oneof(text, fc.integer().map(String)),
    { maxKeys: 4 },
  )
  .map((entries) => new URLSearchParams(entries).toString());

const requests: fc.Arbitrary<FuzzRequest> = fc.oneof(
  body(eventBody, validEvent).map((b) => ({ method: "POST", path: "/v1/events", ...b })),
  id(() => known.eventId).map((e) => ({ method: "GET", path: `/v1/events/${e}` })),
  body(subscriptionBody, validSubscription).map((b) => ({ method: "POST", path: "/v1/subscriptions", ...b })),
  query.map((q) => ({ method: "GET", path: `/v1/subscriptions?${q}` })),
  id(() => known.subscriptionId).map((s) => ({ method: "GET", path: `/v1/subscriptions/${s}` })),
  fc
    .tuple(
      id(() => known.subscriptionId),
      body(subscriptionBody),
    )
    .map(([s, b]) => ({ method: "PATCH", path: `/v1/subscriptions/${s}`, ...b })),
  // Never the stored subscription: deleting it would leave the others nothing to aim at.
  text.map((s) => ({ method: "DELETE", path: `/v1/subscriptions/${encodeURIComponent(s)}` })),
  id(() => known.subscriptionId).map((s) => ({ method: "POST", path: `/v1/subscriptions/${s}/rotate-secret` })),
  id(() => known.subscriptionId).map((s) => ({ method: "GET", path: `/v1/subscriptions/${s}/stats` })),
  // Always with an unknown field: a sample that passed would wait out the subscription's timeout.
  fc
    .tuple(
      id(() => known.subscriptionId),
      body(fc.record({ type: either(eventType), extra: json })),
    )
    .map(([s, b]) => ({ method: "POST", path: `/v1/subscriptions/${s}/test`, ...b })),
  query.map((q) => ({ method: "GET", path: `/v1/deliveries?${q}` })),
  id(() => known.deliveryId).map((d) => ({ method: "GET", path: `/v1/deliveries/${d}` })),
  id(() => known.deliveryId).map((d) => ({ method: "POST", path: `/v1/deliveries/${d}/replay` })),
  body(replayBody, validReplay).map((b) => ({ method: "POST", path: "/v1/deliveries/replay", ...b })),
  id(() => "rpl_x").map((r) => ({ method: "GET", path: `/v1/replays/${r}` })),
);

test(`${RUNS} generated requests over every route with a body or parameters: never a 5xx, every refusal a 4xx with a JSON error, and nothing stored changes`, async () => {
  const statuses = await sendAll(
    requests.map(({ contentType, ...request }) => ({
      ...request,
      headers: { authorization: `Bearer ${hookbus.config.adminKey}`, ...(contentType ? { "content-type": contentType } : {}) },
    })),
    RUNS,
  );
  // The inputs reached past validation as well as into it.
  for (const status of [200, 201, 202, 400, 404, 415, 422]) expect([status, (statuses.get(status) ?? 0) > 0]).toEqual([status, true]);
}, 300_000);

/** Sends `runs` generated requests; each must answer below 500, a refusal with a JSON error and no change in Redis. Counts statuses. */
async function sendAll(arbitrary: fc.Arbitrary<RawRequest>, runs: number): Promise<Map<number, number>> {
  let before = await digest();
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (request) => {
      const response = await fetch(`${hookbus.url}${request.path}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
      const answer = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect(response.status).toBeLessThan(500);
      const after = await digest();
      if (response.status >= 400) {
        expect(after).toBe(before);
        // The queue board answers its own errors in its own shape, which its page reads.
        if (request.path.startsWith("/admin/queues/api/")) return;
        expect(response.headers.get("content-type")).toMatch(/^application\/json/);
        const error = JSON.parse(answer) as { error?: unknown; issues?: unknown };
        expect(typeof error.error).toBe("string");
        if (error.issues !== undefined) expect(Array.isArray(error.issues)).toBe(true);
      }
      before = after;
    }),
    { numRuns: runs },
  );
  return statuses;
}

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

/** A path segment: a stored id, text, or raw percent-escapes, well-formed or not (%c0, %E0%A4%A, %). */
const segment = fc.oneof(
  fc.constant(null).map(() => known.subscriptionId),
  fc.constant(null).map(() => known.deliveryId),
  fc.stringMatching(/^[A-Za-z0-9_.~-]{0,12}$/),
  fc.stringMatching(/^(%[0-9A-Fa-f]{2}|%[0-9A-Fa-f]?|[a-z]){1,8}$/),
  fc.constantFrom("%c0", "%E0%A4%A", "%", "%%", "%ff%fe", "%2e%2e", "..", "%00"),
);
const paths = fc
  .tuple(
    fc.constantFrom(
      "/v1/events/",
      "/v1/subscriptions/",
      "/v1/deliveries/",
      "/v1/replays/",
      "/console/assets/",
      "/admin/queues/api/queues/",
      "/",
    ),
    segment,
    fc.constantFrom("", "/test", "/replay", "/rotate-secret", "/stats", "/add", "?limit=%c0", "?cursor=%"),
  )
  .map(([prefix, middle, suffix]) => `${prefix}${middle}${suffix}`);
/** A header value as a client may send it: printable or Latin-1, never a line break. */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c === 0x7f ? 0x20 : c)),
  maxLength: 60,
});
const authorizations = fc.oneof(
  fc.constant(null).map(() => `Bearer ${hookbus.config.adminKey}`),
  fc.constant(null).map(() => `Basic ${Buffer.from(`admin:${hookbus.config.adminKey}`).toString("base64")}`),
  fc.constantFrom("Bearer", "Bearer ", "Basic", "Basic %%%", "Basic Og==", "Digest x"),
  headerValue,
);
/** A body and how it says it is encoded: compressed or not, truthfully or not. */
const encodedBodies = fc
  .tuple(
    fc.oneof(
      fc.constant(null).map(() => JSON.stringify(surveySubmitted())),
      json.map((value) => JSON.stringify(value)),
      text,
    ),
    fc.constantFrom("gzip", "deflate", "br", "identity", "zstd", "x-unknown", "gzip, deflate", "GZIP", ""),
    fc.constantFrom("compress", "as is"),
  )
  .map(([raw, encoding, how]) => {
    const body = how === "as is" ? raw : encoding.includes("deflate") ? deflateSync(raw) : gzipSync(raw);
    return {
      body: new Uint8Array(body instanceof Buffer ? body : Buffer.from(body)),
      ...(encoding ? { "content-encoding": encoding } : {}),
    };
  });
const rawRequests: fc.Arbitrary<RawRequest> = fc
  .record({
    method: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"),
    path: fc.oneof(paths, fc.constantFrom("/v1/events", "/v1/events/batch", "/v1/subscriptions", "/v1/deliveries/replay")),
    authorization: authorizations,
    contentType: fc.oneof(
      fc.constantFrom("application/json", "application/json; charset=latin1", "application/json; charset=x", "text/plain"),
      headerValue,
    ),
    requestId: headerValue,
    accept: headerValue,
    encoded: encodedBodies,
  })
  .map(({ method, path, authorization, contentType, requestId, accept, encoded: { body, ...encoding } }) => ({
    method,
    path,
    headers: { authorization, "content-type": contentType, "x-request-id": requestId, accept, ...encoding },
    ...(method === "GET" || method === "OPTIONS" ? {} : { body }),
  }));

test(`${Math.ceil(RUNS / 5)} generated requests with hostile paths, percent-escapes, content encodings and header values: never a 5xx`, async () => {
  const statuses = await sendAll(rawRequests, Math.ceil(RUNS / 5));
  for (const status of [400, 401, 404]) expect([status, (statuses.get(status) ?? 0) > 0]).toEqual([status, true]);
}, 300_000);
