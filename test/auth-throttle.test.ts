import { createLogger } from "@hookbus/core/runtime";
import { startIngest, type RunningIngest } from "@hookbus/ingest";
import { TestHookbus } from "./support/harness.js";

let hookbus: TestHookbus;
let second: RunningIngest;

beforeAll(async () => {
  hookbus = await TestHookbus.start({ worker: false, env: { HOOKBUS_AUTH_FAILURE_LIMIT: "3" } });
  // A second ingest of the same deployment: same Redis, same prefix, same keys.
  second = await startIngest({ ...hookbus.config, port: 0 }, { logger: createLogger("test", "silent") });
});

afterAll(async () => {
  await second.close();
  await hookbus.stop();
});

const withKey = (url: string, key: string) => fetch(`${url}/v1/subscriptions`, { headers: { authorization: `Bearer ${key}` } });

test("unknown keys from one address are refused with 429 and Retry-After past the limit, on every ingest, good keys too", async () => {
  const wrong = "wrong-key-0123456789abcdef";
  // Up to the limit, counted across both ingests: 401s.
  for (const url of [hookbus.url, second.url, hookbus.url]) expect((await withKey(url, wrong)).status).toBe(401);
  // A missing key is no guess: not counted.
  expect((await fetch(`${second.url}/v1/subscriptions`)).status).toBe(401);
  expect((await withKey(hookbus.url, hookbus.config.adminKey)).status).toBe(200);

  const refused = await withKey(second.url, wrong);
  expect(refused.status).toBe(429);
  const retryAfter = Number(refused.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(await refused.json()).toEqual({ error: expect.stringMatching(/too many failed authentications/) });
  // The address is refused whatever key it sends until the minute is over, so a guess cannot go on until it is right.
  const good = await withKey(second.url, hookbus.config.adminKey);
  expect(good.status).toBe(429);
  expect(Number(good.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  // The first ingest learns it from its next failure.
  expect((await withKey(hookbus.url, wrong)).status).toBe(429);
  expect((await withKey(hookbus.url, hookbus.config.adminKey)).status).toBe(429);
});
