import { surveySubmitted } from "../fixtures/events.js";
import { TestHookbus } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";

// The console's files as the ingest serves them, and the overview its charts read.
let hookbus: TestHookbus;
let fast: TestReceiver;
let slow: TestReceiver;
let down: TestReceiver;

beforeAll(async () => {
  [hookbus, fast, slow, down] = await Promise.all([
    TestHookbus.start(),
    TestReceiver.start(),
    TestReceiver.start(() => ({ status: 200, delayMs: 150 })),
    TestReceiver.start(() => ({ status: 503 })),
  ]);
});

afterAll(async () => {
  await Promise.all([hookbus.stop(), fast.stop(), slow.stop(), down.stop()]);
});

test("/console moves to /console/, whose page is revalidated each visit and names only its own hashed assets, kept for a year", async () => {
  const bare = await fetch(`${hookbus.url}/console`, { redirect: "manual" });
  expect(bare.status).toBe(301);
  expect(bare.headers.get("location")).toBe("/console/");

  const page = await fetch(`${hookbus.url}/console/`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toMatch(/^text\/html/);
  expect(page.headers.get("cache-control")).toBe("no-cache");
  expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
  const html = await page.text();
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((url) => !url.startsWith("data:"));
  expect(assets.length).toBeGreaterThanOrEqual(2);
  for (const asset of assets) {
    expect(asset).toMatch(/^\/console\/assets\/[\w-]+-[\w-]{8}\.(js|css)$/);
    const response = await fetch(`${hookbus.url}${asset}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await response.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\/[\w./-]*\.(js|css|woff2?)/i);
  }
});

test("an asset that does not exist is a 404 with the API's error body, and no path leaves the assets folder", async () => {
  for (const path of ["/console/assets/nothing-here.js", "/console/assets/..%2F..%2Fpackage.json", "/console/assets/.hidden"]) {
    const response = await fetch(`${hookbus.url}${path}`);
    expect([path, response.status]).toEqual([path, 404]);
    expect(await response.json()).toEqual({ error: expect.any(String) });
  }
});

test("the overview counts this minute's deliveries, failed attempts and dead letters, and ranks the slowest endpoint first", async () => {
  const webhooks = await Promise.all(
    [fast, slow, down].map((receiver) =>
      hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: [] }),
    ),
  );
  const events = await Promise.all([1, 2].map(() => hookbus.publish(surveySubmitted())));
  const deliveries = (await Promise.all(events.map((e) => hookbus.deliveriesOf(e.body.id, 3)))).flat();
  await Promise.all(deliveries.map((d) => hookbus.deliveryWithStatus(d.id, d.subscriptionId === webhooks[2]!.id ? "failed" : "delivered")));

  const response = await hookbus.api("GET", "/v1/overview?minutes=10");
  expect(response.status).toBe(200);
  const overview = response.body;
  expect(overview.minutes).toHaveLength(10);
  const total = (field: string) => overview.minutes.reduce((sum: number, minute: any) => sum + minute[field], 0);
  expect({
    deliveries: total("deliveries"),
    attempts: total("attempts"),
    failedAttempts: total("failedAttempts"),
    deadLetters: total("deadLetters"),
  }).toEqual({
    deliveries: 6,
    attempts: 6,
    failedAttempts: 2,
    deadLetters: 2,
  });
  expect(overview.truncated).toBe(false);
  expect(overview.slowestEndpoints[0]).toMatchObject({ subscriptionId: webhooks[1]!.id, url: slow.url, attempts: 2 });
  expect(overview.slowestEndpoints[0].averageMs).toBeGreaterThanOrEqual(150);
  expect(overview.slowestEndpoints).toHaveLength(3);
});

test("the overview is for admins, and says what is wrong with a bad window", async () => {
  expect((await hookbus.api("GET", "/v1/overview", undefined, hookbus.config.publisherKey)).status).toBe(403);
  const bad = await hookbus.api("GET", "/v1/overview?minutes=1");
  expect(bad.status).toBe(422);
  expect(bad.body.issues[0].path).toEqual(["minutes"]);
});
