import { HookbusClient } from "@hookbus/client";
import { operatorKeyId } from "@hookbus/core/policy";
import type { AuditEntry } from "@hookbus/schemas";
import { surveySubmitted } from "./fixtures/events.js";
import { runCli, startCli } from "./support/cli.js";
import { TestHookbus, waitFor, type ApiResponse } from "./support/harness.js";
import { spawnIngest } from "./support/processes.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
/** The operator key of this file, named as HOOKBUS_API_KEYS lets one be: `name=role:key`. */
let operatorKey: string;
let publisherKey: string;
let operator: HookbusClient;
let OPERATOR: { keyId: string; name: string; role: string };
const receivers = new ReceiverPool();

beforeAll(async () => {
  hookbus = await TestHookbus.start({ adminKeyName: "Ops Lead" });
  ({ adminKey: operatorKey, publisherKey } = hookbus.config);
  operator = hookbus.client;
  OPERATOR = { keyId: operatorKeyId(operatorKey), name: "Ops Lead", role: "operator" };
});
afterAll(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

/** Calls the API raw with a key (the operator's unless told). */
const call = (method: string, path: string, body?: unknown, key = operatorKey): Promise<ApiResponse> =>
  hookbus.api(method, path, body, key);

/** The newest entries about one resource, newest first. */
async function entriesOf(resourceId: string, client = operator): Promise<AuditEntry[]> {
  return (await client.audit.list({ resourceId, limit: 500 })).items;
}

/** The newest entry of an action about a resource, once it is there. */
function entry(resourceId: string, action: string): Promise<AuditEntry> {
  return waitFor(async () => (await entriesOf(resourceId)).find((e) => e.action === action), `${action} of ${resourceId}`);
}

test("every change to a subscription is recorded with who made it, from where, the old and new values, and no secret", async () => {
  const receiver = await receivers.start();
  const created = await call("POST", "/v1/subscriptions", {
    url: `${receiver.url}?token=url-token-0042`,
    eventTypes: ["survey.submitted"],
    auth: { type: "basic", username: "trialkit", password: "basic-password-0042" },
    headers: { "x-receiver-token": "header-token-0042" },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const create = await entry(id, "subscription.create");
  expect(create).toMatchObject({
    actor: OPERATOR,
    resourceType: "subscription",
    resourceId: id,
    projectId: "default",
    outcome: "succeeded",
    requestId: created.headers.get("x-request-id"),
    after: {
      url: `${receiver.url}?token=********`,
      auth: { type: "basic", username: "trialkit" },
      headers: { "x-receiver-token": "********" },
    },
  });
  expect(create.clientAddress).toMatch(/127\.0\.0\.1$/);
  expect(create.before).toBeUndefined();

  const elsewhere = await receivers.start();
  expect((await call("PATCH", `/v1/subscriptions/${id}`, { url: elsewhere.url, headers: { "x-receiver-token": "token-2" } })).status).toBe(
    200,
  );
  expect(await entry(id, "subscription.update")).toMatchObject({
    before: { url: `${receiver.url}?token=********`, headers: { "x-receiver-token": "********" } },
    after: { url: elsewhere.url, headers: { "x-receiver-token": "********" } },
  });
  const update = await entry(id, "subscription.update");
  expect(Object.keys(update.after!).sort()).toEqual(["headers", "url"]);

  expect((await call("PATCH", `/v1/subscriptions/${id}`, { enabled: false })).status).toBe(200);
  expect(await entry(id, "subscription.disable")).toMatchObject({
    actor: OPERATOR,
    before: { enabled: true },
    after: { enabled: false, disabledReason: "admin" },
  });
  expect((await call("PATCH", `/v1/subscriptions/${id}`, { enabled: true })).status).toBe(200);
  expect(await entry(id, "subscription.enable")).toMatchObject({ before: { enabled: false }, after: { enabled: true } });
  expect((await call("PATCH", `/v1/subscriptions/${id}`, { environment: "test" })).status).toBe(200);
  expect(await entry(id, "subscription.switch-environment")).toMatchObject({
    before: { environment: "live" },
    after: { environment: "test" },
  });

  const rotated = await call("POST", `/v1/subscriptions/${id}/rotate-secret`);
  expect(rotated.status).toBe(200);
  expect(await entry(id, "subscription.rotate-secret")).toMatchObject({ after: { secret: "********" } });

  const sample = await call("POST", `/v1/subscriptions/${id}/test`, {});
  expect(sample.status).toBe(200);
  expect(await entry(id, "subscription.send-sample")).toMatchObject({
    after: { type: "survey.submitted", eventId: sample.body.eventId, outcome: "delivered", statusCode: 200 },
  });

  expect((await call("DELETE", `/v1/subscriptions/${id}`)).status).toBe(204);
  expect(await entry(id, "subscription.delete")).toMatchObject({ before: { id, url: elsewhere.url, environment: "test" } });

  const everything = JSON.stringify(await entriesOf(id));
  for (const secret of [
    "basic-password-0042",
    "header-token-0042",
    "url-token-0042",
    "token-2",
    created.body.secret,
    rotated.body.secret,
    operatorKey,
  ])
    expect(everything).not.toContain(secret);
});

test("the system is the actor, with its reason, when a 410 disables a subscription", async () => {
  const gone = await receivers.start(() => ({ status: 410 }));
  const subscription = await hookbus.createSubscription({ url: gone.url, eventTypes: ["survey.submitted"] });
  expect((await hookbus.publish(surveySubmitted(), publisherKey)).status).toBe(202);
  expect(await entry(subscription.id, "subscription.disable")).toMatchObject({
    actor: { keyId: "system", role: "system", reason: "gone" },
    before: { enabled: true },
    after: { enabled: false, disabledReason: "gone" },
  });
});

test("replays are recorded: one delivery, a bulk replay's filter, dry run and count, and its end with its counts", async () => {
  let up = false;
  const receiver = await receivers.start(() => ({ status: up ? 200 : 500 }));
  const subscription = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: [] });
  const published = await hookbus.publish(surveySubmitted(), publisherKey);
  const [{ id: deliveryId }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(deliveryId, "failed");

  const dry = await call("POST", "/v1/deliveries/replay", { subscriptionId: subscription.id, dryRun: true });
  expect(dry.body).toEqual({ dryRun: true, count: 1 });
  expect(await entry("dry-run", "replay.start")).toMatchObject({
    actor: OPERATOR,
    after: { dryRun: true, count: 1, filter: { subscriptionId: subscription.id, status: "failed" } },
  });

  up = true;
  const bulk = await call("POST", "/v1/deliveries/replay", { subscriptionId: subscription.id });
  expect(bulk.status).toBe(202);
  expect(await entry(bulk.body.id, "replay.start")).toMatchObject({
    actor: OPERATOR,
    after: { dryRun: false, count: 1, filter: { subscriptionId: subscription.id } },
  });
  expect(await entry(bulk.body.id, "replay.finish")).toMatchObject({
    actor: { keyId: "system", role: "system" },
    after: { total: 1, done: 1, failed: 0, skipped: 0 },
  });

  await hookbus.deliveryWithStatus(deliveryId, "delivered");
  expect((await call("POST", `/v1/deliveries/${deliveryId}/replay`)).status).toBe(202);
  expect(await entry(deliveryId, "delivery.replay")).toMatchObject({
    actor: OPERATOR,
    resourceType: "delivery",
    before: { status: "delivered" },
  });
});

test("schedules are recorded when made, changed, paused, resumed and deleted, by name and timing, never with the participant they name", async () => {
  const data = { ...surveySubmitted().data, participantIdentifier: "PT-AUDIT-77" };
  const made = await call("POST", "/v1/schedules", {
    name: "Daily check-in",
    data: { projectId: data.projectId, participantId: data.participantId, participantIdentifier: data.participantIdentifier },
    every: "1d",
  });
  expect(made.status).toBe(201);
  const id = made.body.id as string;
  expect((await call("PATCH", `/v1/schedules/${id}`, { name: "Evening check-in" })).status).toBe(200);
  expect((await call("POST", `/v1/schedules/${id}/pause`)).status).toBe(200);
  expect((await call("POST", `/v1/schedules/${id}/resume`)).status).toBe(200);
  expect((await call("DELETE", `/v1/schedules/${id}`)).status).toBe(204);

  expect((await entry(id, "schedule.create")).after).toMatchObject({ name: "Daily check-in", every: 86_400_000, catchUp: "last" });
  expect(await entry(id, "schedule.update")).toMatchObject({
    actor: OPERATOR,
    before: { name: "Daily check-in" },
    after: { name: "Evening check-in" },
  });
  expect((await entry(id, "schedule.pause")).after).toEqual({ paused: true });
  expect((await entry(id, "schedule.resume")).after).toEqual({ paused: false });
  expect((await entry(id, "schedule.delete")).before).toMatchObject({ name: "Evening check-in" });
  const entries = await entriesOf(id);
  expect(entries.map((e) => e.action)).toEqual([
    "schedule.delete",
    "schedule.resume",
    "schedule.pause",
    "schedule.update",
    "schedule.create",
  ]);
  expect(JSON.stringify(entries)).not.toContain("PT-AUDIT-77");
  expect(JSON.stringify(entries)).not.toContain(data.participantId);
});

test("projects and keys are recorded, and a project key acts under its own id and name", async () => {
  const made = await call("POST", "/v1/projects", { name: "Sleep study" });
  const projectId = made.body.id as string;
  expect(await entry(projectId, "project.create")).toMatchObject({ actor: OPERATOR, projectId, after: { name: "Sleep study" } });
  await call("PATCH", `/v1/projects/${projectId}`, { name: "Sleep study II" });
  expect(await entry(projectId, "project.update")).toMatchObject({ before: { name: "Sleep study" }, after: { name: "Sleep study II" } });

  const key = await call("POST", `/v1/projects/${projectId}/keys`, { role: "admin", name: "Study coordinator" });
  expect(await entry(key.body.id, "key.create")).toMatchObject({ after: { name: "Study coordinator", role: "admin" } });
  expect(JSON.stringify(await entriesOf(key.body.id))).not.toContain(key.body.key);

  const receiver = await receivers.start();
  const subscription = await call("POST", "/v1/subscriptions", { url: receiver.url, eventTypes: ["record.updated"] }, key.body.key);
  expect(await entry(subscription.body.id, "subscription.create")).toMatchObject({
    actor: { keyId: key.body.id, name: "Study coordinator", role: "admin" },
    projectId,
  });

  const other = await call("POST", `/v1/projects/${projectId}/keys`, { role: "publisher", name: "EDC" });
  expect((await call("DELETE", `/v1/projects/${projectId}/keys/${other.body.id}`, undefined, key.body.key)).status).toBe(204);
  expect(await entry(other.body.id, "key.revoke")).toMatchObject({
    actor: { keyId: key.body.id, name: "Study coordinator" },
    before: { name: "EDC", role: "publisher" },
  });

  expect((await call("DELETE", `/v1/projects/${projectId}?cascade=true`)).status).toBe(204);
  expect(await entry(projectId, "project.delete")).toMatchObject({ before: { name: "Sleep study II", subscriptions: 1, keys: 1 } });
  expect(await entry(subscription.body.id, "subscription.delete")).toMatchObject({ actor: OPERATOR, projectId });
});

test("a project's admin sees its own project's entries only, and may not verify the chain that spans every project", async () => {
  const mine = await call("POST", "/v1/projects", { name: "Mine" });
  const theirs = await call("POST", "/v1/projects", { name: "Theirs" });
  const key = (await call("POST", `/v1/projects/${mine.body.id}/keys`, { role: "admin", name: "Mine admin" })).body.key as string;
  const coordinator = new HookbusClient({ baseUrl: hookbus.url, apiKey: key });

  const seen = (await coordinator.audit.list({ limit: 500 })).items;
  expect(seen.length).toBeGreaterThan(0);
  expect(new Set(seen.map((e) => e.projectId))).toEqual(new Set([mine.body.id]));
  expect((await call("GET", `/v1/audit?projectId=${theirs.body.id}`, undefined, key)).status).toBe(404);
  expect((await call("GET", `/v1/audit?resourceId=${theirs.body.id}`, undefined, key)).body.items).toEqual([]);
  expect((await call("GET", "/v1/audit/verify", undefined, key)).status).toBe(403);
  const exported = [];
  for await (const line of coordinator.audit.export()) exported.push(line);
  expect(exported.map((e) => e.id)).toEqual(seen.map((e) => e.id).reverse());
  expect((await operator.audit.list({ resourceId: theirs.body.id })).items).toHaveLength(1);
});

test("the listing filters by actor, action, resource and time, and its pages walk every entry newest first, once", async () => {
  const since = new Date().toISOString();
  const ids: string[] = [];
  for (const name of ["F1", "F2", "F3", "F4", "F5"]) ids.push((await call("POST", "/v1/projects", { name })).body.id);
  const until = new Date(Date.now() + 1).toISOString();

  const byAction = await operator.audit.list({ action: "project.create", since, until, limit: 500 });
  expect(byAction.items.map((e) => e.resourceId)).toEqual([...ids].reverse());
  expect((await operator.audit.list({ actor: "Ops Lead", since, limit: 500 })).items).toHaveLength(5);
  expect((await operator.audit.list({ actor: OPERATOR.keyId, since, limit: 500 })).items).toHaveLength(5);
  expect((await operator.audit.list({ actor: "someone else", since })).items).toEqual([]);
  expect((await operator.audit.list({ resourceId: ids[2]! })).items.map((e) => e.action)).toEqual(["project.create"]);
  expect((await operator.audit.list({ until: since, action: "project.create", limit: 500 })).items.map((e) => e.resourceId)).not.toContain(
    ids[0],
  );

  const paged: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await operator.audit.list({ since, limit: 2, cursor });
    expect(page.items.length).toBeLessThanOrEqual(2);
    paged.push(...page.items.map((e) => e.resourceId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  expect(paged).toEqual([...ids].reverse());

  const all = (await operator.audit.list({ limit: 500 })).items;
  expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((a, b) => b - a));
  expect((await call("GET", "/v1/audit?action=subscription.explode")).status).toBe(422);
  expect((await call("GET", "/v1/audit?cursor=not-a-cursor")).status).toBe(422);
});

test("the export streams every entry, oldest first, as NDJSON", async () => {
  const response = await fetch(`${hookbus.url}/v1/audit/export`, { headers: { authorization: `Bearer ${operatorKey}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
  const lines = (await response.text()).trim().split("\n");
  const listed = [];
  for await (const item of operator.audit.iterate()) listed.push(item);
  expect(lines.map((line) => JSON.parse(line))).toEqual(listed.reverse());
  expect(lines.length).toBeGreaterThan(10);
});

test("no API changes or deletes an entry: PUT, PATCH, DELETE and POST answer 405 with a JSON error", async () => {
  const [newest] = (await operator.audit.list({ limit: 1 })).items;
  for (const method of ["PUT", "PATCH", "DELETE", "POST"]) {
    for (const path of ["/v1/audit", `/v1/audit/${newest!.id}`, "/v1/audit/export"]) {
      const answer = await call(method, path, method === "DELETE" ? undefined : { action: "project.create" });
      expect([method, path, answer.status]).toEqual([method, path, 405]);
      expect(answer.body.error).toMatch(/append-only/);
      expect(answer.headers.get("allow")).toBe("GET");
    }
  }
  expect((await operator.audit.list({ limit: 1 })).items[0]).toEqual(newest);
  expect(await operator.audit.verify()).toMatchObject({ ok: true });
});

describe("the hash chain", () => {
  let own: TestHookbus;
  beforeEach(async () => {
    own = await TestHookbus.start({ worker: false });
    for (const name of ["A", "B", "C", "D"]) expect((await own.api("POST", "/v1/projects", { name })).status).toBe(201);
  });
  afterEach(() => own.stop());

  const stream = () => `${own.config.queuePrefix}:audit`;
  const rawEntries = async () => (await own.redisCommand("XRANGE", stream(), "-", "+")) as [string, string[]][];

  test("verify answers ok with the number of entries on an intact chain", async () => {
    expect((await own.api("GET", "/v1/audit/verify")).body).toEqual({ ok: true, entries: 4 });
  });

  test("an entry changed by hand in Redis is found: the first entry that does not match is named", async () => {
    const entries = await rawEntries();
    const third = entries[2]!;
    // Stream entries cannot be edited in place: the stream is written again, the third entry's body changed.
    await own.redisCommand("DEL", stream());
    for (const [streamId, fields] of entries) {
      const forged = streamId === third[0] ? fields.map((value) => value.replace('"name":"C"', '"name":"X"')) : fields;
      await own.redisCommand("XADD", stream(), streamId, ...forged);
    }
    const id = JSON.parse(third[1][third[1].indexOf("body") + 1]!).id;
    expect((await own.api("GET", "/v1/audit/verify")).body).toEqual({
      ok: false,
      entries: 2,
      mismatch: { seq: 3, id, reason: "its content does not match its hash: it was changed" },
    });
  });

  test("an entry deleted by hand is found, in the middle of the chain or at its end", async () => {
    const entries = await rawEntries();
    await own.redisCommand("XDEL", stream(), entries[1]![0]);
    expect((await own.api("GET", "/v1/audit/verify")).body).toMatchObject({ ok: false, entries: 1, mismatch: { seq: 2 } });
    expect((await own.api("GET", "/v1/audit/verify")).body.mismatch.reason).toMatch(/deleted/);

    const other = await TestHookbus.start({ worker: false });
    try {
      expect((await other.api("POST", "/v1/projects", { name: "only" })).status).toBe(201);
      expect((await other.api("POST", "/v1/projects", { name: "last" })).status).toBe(201);
      const [, last] = (await other.redisCommand("XRANGE", `${other.config.queuePrefix}:audit`, "-", "+")) as [string, string[]][];
      await other.redisCommand("XDEL", `${other.config.queuePrefix}:audit`, last![0]);
      expect((await other.api("GET", "/v1/audit/verify")).body).toEqual({
        ok: false,
        entries: 1,
        mismatch: { seq: 2, reason: "the chain ends at entry 1 but its head is entry 2: the last entries were deleted" },
      });
    } finally {
      await other.stop();
    }
  });

  test("appends racing from two ingest processes chain into one valid chain, numbered without gaps", async () => {
    const ingests = await Promise.all([spawnIngest(own.config), spawnIngest(own.config)]);
    try {
      const makeProjects = (url: string, prefix: string) =>
        Promise.all(
          Array.from({ length: 25 }, (_, i) =>
            fetch(`${url}/v1/projects`, {
              method: "POST",
              headers: { authorization: `Bearer ${own.config.adminKey}`, "content-type": "application/json" },
              body: JSON.stringify({ name: `${prefix}${i}` }),
            }).then((r) => r.status),
          ),
        );
      const statuses = await Promise.all(ingests.map((ingest, i) => makeProjects(ingest.url, `p${i}-`)));
      expect(statuses.flat()).toEqual(Array(50).fill(201));
    } finally {
      await Promise.all(ingests.map((ingest) => ingest.stop()));
    }
    expect((await own.api("GET", "/v1/audit/verify")).body).toEqual({ ok: true, entries: 54 });
    const seqs = (await own.client.audit.list({ limit: 500 })).items.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 54 }, (_, i) => 54 - i));
  });
});

test("with HOOKBUS_AUDIT_RETENTION, entries older than it are dropped and the chain left verifies from its anchor", async () => {
  const short = await TestHookbus.start({ worker: false, env: { HOOKBUS_AUDIT_RETENTION: "1ms" } });
  try {
    expect((await short.api("POST", "/v1/projects", { name: "first" })).status).toBe(201);
    // Each append drops what is older than 1 ms: within a few appends the first entry is gone.
    await waitFor(async () => {
      expect((await short.api("POST", "/v1/projects", { name: "later" })).status).toBe(201);
      return !(await short.client.audit.list({ limit: 500 })).items.some((e) => e.seq === 1);
    }, "the first entry to expire");
    const verified = (await short.api("GET", "/v1/audit/verify")).body;
    const kept = (await short.client.audit.list({ limit: 500 })).items;
    expect(verified).toEqual({ ok: true, entries: kept.length });
    expect(kept.at(-1)!.seq).toBeGreaterThan(1);
  } finally {
    await short.stop();
  }
});

test("hookbus audit prints the trail as a table or JSON, and --follow prints entries as they are recorded", async () => {
  const env = { HOOKBUS_URL: hookbus.url, HOOKBUS_API_KEY: operatorKey };
  const made = await call("POST", "/v1/projects", { name: "CLI study" });
  const table = await runCli(["audit", "--resource", made.body.id], env);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(
    new RegExp(`Ops Lead \\(${OPERATOR.keyId}\\).*project\\.create.*${made.body.id}.*name: "CLI study".*succeeded`),
  );

  const json = await runCli(["audit", "--json", "--action", "project.create", "--limit", "3"], env);
  expect(json.code).toBe(0);
  const listed = JSON.parse(json.stdout);
  expect(listed.items).toEqual((await operator.audit.list({ action: "project.create", limit: 3 })).items);

  expect((await call("PATCH", `/v1/projects/${made.body.id}`, { name: "CLI study v1" })).status).toBe(200);
  const followed = startCli(["audit", "--follow", "--json", "--action", "project.update", "--limit", "1", "--interval", "100"], env);
  try {
    // The listing comes first: once it is printed, what follows was recorded after the command started.
    await waitFor(() => followed.output.stdout.includes("\n") || followed.child.exitCode !== null, "the listing");
    const printedFirst = followed.output.stdout.split("\n").filter(Boolean).length;
    await call("PATCH", `/v1/projects/${made.body.id}`, { name: "CLI study, renamed" });
    const lines = await waitFor(() => {
      const all = followed.output.stdout.split("\n").filter(Boolean);
      return all.length > printedFirst ? all : undefined;
    }, "the followed entry");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      action: "project.update",
      resourceId: made.body.id,
      after: { name: "CLI study, renamed" },
    });
  } finally {
    followed.child.kill("SIGTERM");
    await followed.closed;
  }
});

test("an action refused or failed after its target was found is recorded as failed, with the status and the reason", async () => {
  const made = await call("POST", "/v1/projects", { name: "Busy study" });
  const receiver = await receivers.start();
  await call("POST", "/v1/subscriptions", { projectId: made.body.id, url: receiver.url, eventTypes: ["record.updated"] });
  const refused = await call("DELETE", `/v1/projects/${made.body.id}`);
  expect(refused.status).toBe(409);
  expect(await entry(made.body.id, "project.delete")).toMatchObject({
    actor: OPERATOR,
    outcome: "failed",
    requestId: refused.headers.get("x-request-id"),
    before: { name: "Busy study" },
    after: { status: 409, error: refused.body.error },
  });

  const paused = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], enabled: false });
  const sample = await call("POST", `/v1/subscriptions/${paused.id}/test`, {});
  expect(sample.status).toBe(422);
  expect(await entry(paused.id, "subscription.send-sample")).toMatchObject({ outcome: "failed", after: { status: 422 } });

  // An unknown id or a bad body changed nothing and named nothing that exists: only the request log has it.
  const before = (await operator.audit.list({ limit: 1 })).items[0]!.seq;
  expect((await call("DELETE", "/v1/projects/prj_01M881QN0JYS8BDKMBBAYD0C53")).status).toBe(404);
  expect((await call("PATCH", `/v1/subscriptions/${paused.id}`, { timeoutMs: "soon" })).status).toBe(422);
  expect((await operator.audit.list({ limit: 1 })).items[0]!.seq).toBe(before);
});
