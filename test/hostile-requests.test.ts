import { gzipSync } from "node:zlib";
import { surveySubmitted } from "./fixtures/events.js";
import { TestHookbus } from "./support/harness.js";

let hookbus: TestHookbus;
let writableBoard: TestHookbus | undefined;

beforeAll(async () => {
  hookbus = await TestHookbus.start({ worker: false });
});

afterAll(async () => {
  await writableBoard?.stop();
  await hookbus.stop();
});

const admin = () => ({ authorization: `Bearer ${hookbus.config.adminKey}` });

test("a malformed percent-escape in a path parameter is a 400 with a JSON error, before and after authentication", async () => {
  for (const [method, path] of [
    ["GET", "/v1/events/%c0"],
    ["DELETE", "/v1/subscriptions/%c0"],
    ["GET", "/v1/deliveries/%E0%A4%A"],
    ["GET", "/console/assets/%c0"],
  ] as const) {
    for (const headers of [{}, admin()]) {
      const response = await fetch(`${hookbus.url}${path}`, { method, headers });
      expect([method, path, response.status]).toEqual([method, path, 400]);
      expect(await response.json()).toEqual({ error: "malformed percent-escape in the path" });
    }
  }
  const metrics = await (await fetch(`${hookbus.url}/metrics`)).text();
  expect(metrics).not.toMatch(/status_class="5xx"/);
});

test("a gzip or deflate body that does not inflate is a 400 saying the body could not be decoded", async () => {
  for (const encoding of ["gzip", "deflate", "br"]) {
    const response = await fetch(`${hookbus.url}/v1/events`, {
      method: "POST",
      headers: { ...admin(), "content-type": "application/json", "content-encoding": encoding },
      body: "not compressed at all",
    });
    expect([encoding, response.status]).toEqual([encoding, 400]);
    expect(await response.json()).toEqual({ error: "the body could not be decoded as its Content-Encoding says" });
  }
  // A body that does inflate is taken as it always was.
  const inflated = await fetch(`${hookbus.url}/v1/events`, {
    method: "POST",
    headers: { ...admin(), "content-type": "application/json", "content-encoding": "gzip" },
    body: gzipSync(JSON.stringify(surveySubmitted())),
  });
  expect(inflated.status).toBe(202);
});

test("every answer says nosniff and none says X-Powered-By; /docs may not be framed", async () => {
  const basic = `Basic ${Buffer.from(`admin:${hookbus.config.adminKey}`).toString("base64")}`;
  for (const [path, headers] of [
    ["/v1/subscriptions", admin()],
    ["/v1/subscriptions", {}],
    ["/no/such/route", admin()],
    ["/v1/openapi.json", {}],
    ["/docs", {}],
    ["/admin/queues", { authorization: basic }],
    ["/admin/queues/api/queues", { authorization: basic }],
  ] as const) {
    const response = await fetch(`${hookbus.url}${path}`, { headers });
    await response.arrayBuffer();
    expect([path, response.headers.get("x-content-type-options")]).toEqual([path, "nosniff"]);
    expect([path, response.headers.get("x-powered-by")]).toEqual([path, null]);
  }
  const docs = await fetch(`${hookbus.url}/docs`);
  expect(docs.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
  // The worker's own server too.
  await hookbus.startWorker();
  for (const path of ["/metrics", "/readyz", "/healthz", "/no/such/route"]) {
    const response = await fetch(`http://127.0.0.1:${hookbus.workerMetricsPort}${path}`);
    await response.arrayBuffer();
    expect([`worker ${path}`, response.headers.get("x-content-type-options")]).toEqual([`worker ${path}`, "nosniff"]);
  }
});

describe("the queue board", () => {
  const board = (target: TestHookbus) => `${target.url}/admin/queues`;
  const basicAuth = (target: TestHookbus) => `Basic ${Buffer.from(`admin:${target.config.adminKey}`).toString("base64")}`;
  /** What a page on another site can make a browser send without asking: a text/plain form post. */
  const crossSiteAdd = (target: TestHookbus) =>
    fetch(`${board(target)}/api/queues/replay/add`, {
      method: "POST",
      headers: {
        authorization: basicAuth(target),
        "content-type": "text/plain",
        origin: "https://elsewhere.example",
        "sec-fetch-site": "cross-site",
      },
      body: '{"name":"x"}',
    });

  test("its pages may not be framed by another site", async () => {
    const page = await fetch(board(hookbus), { headers: { authorization: basicAuth(hookbus) } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("is read-only by default: a cross-site post to add a job is refused and queues nothing", async () => {
    const refused = await crossSiteAdd(hookbus);
    expect(refused.status).toBe(405);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/read-only.*HOOKBUS_QUEUE_BOARD_WRITABLE/) });
    // Refused whatever the origin: a read-only board changes nothing.
    const sameSite = await fetch(`${board(hookbus)}/api/queues/replay/add`, {
      method: "POST",
      headers: { authorization: basicAuth(hookbus), "content-type": "application/json", "sec-fetch-site": "same-origin" },
      body: JSON.stringify({ name: "x", data: {} }),
    });
    expect(sameSite.status).toBe(405);
    expect(await hookbus.queueCounts("replay")).toEqual({ waiting: 0, active: 0, delayed: 0 });
  });

  test("when writable, takes changes only as JSON from its own pages", async () => {
    writableBoard = await TestHookbus.start({ worker: false, env: { HOOKBUS_QUEUE_BOARD_WRITABLE: "true" } });
    const target = writableBoard;
    expect((await crossSiteAdd(target)).status).toBe(403);
    const add = (headers: Record<string, string>, body = JSON.stringify({ name: "x", data: {} })) =>
      fetch(`${board(target)}/api/queues/replay/add`, { method: "POST", headers: { authorization: basicAuth(target), ...headers }, body });
    // No word of where it comes from (an older browser, or not a browser): refused.
    expect((await add({ "content-type": "application/json" })).status).toBe(403);
    // From the board's own page, but as a form: refused.
    expect((await add({ "content-type": "text/plain", "sec-fetch-site": "same-origin" })).status).toBe(415);
    expect((await add({ "content-type": "text/plain", origin: target.url })).status).toBe(415);
    expect(await target.queueCounts("replay")).toEqual({ waiting: 0, active: 0, delayed: 0 });

    // What the board's page itself sends goes through.
    expect((await add({ "content-type": "application/json", "sec-fetch-site": "same-origin" })).status).toBe(200);
    expect((await add({ "content-type": "application/json", origin: target.url })).status).toBe(200);
    expect((await target.queueCounts("replay")).waiting).toBe(2);
  });
});
