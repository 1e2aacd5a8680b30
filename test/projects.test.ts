import { createLogger } from "@hookbus/core/runtime";
import { startIngest, type RunningIngest } from "@hookbus/ingest";
import { KEY_LOOKUP_TTL_MS } from "../apps/ingest/src/project-key-lookup.js";
import { CapturedLogs } from "./support/captured-logs.js";
import { TestHookbus, waitFor, type ApiResponse } from "./support/harness.js";
import { ReceiverPool, type TestReceiver } from "./support/receiver.js";
import { recordUpdated, surveySubmitted } from "./fixtures/events.js";

let hookbus: TestHookbus;
/** A second ingest on the same Redis, logging at debug into `logs`. */
let secondIngest: RunningIngest;
const logs = new CapturedLogs();
const receivers = new ReceiverPool();

/** The MyDataHelps project of the survey.submitted fixture: a project made with its GUID as id. */
const STUDY_GUID = surveySubmitted().data.projectId;

interface TestProject {
  id: string;
  adminKey: string;
  publisherKey: string;
}

beforeAll(async () => {
  hookbus = await TestHookbus.start();
  secondIngest = await startIngest(hookbus.config, { logger: createLogger("second-ingest", "debug", logs.destination) });
});
afterAll(async () => {
  await secondIngest.close();
  await hookbus.stop();
  await receivers.stopAll();
});

/** Calls the second ingest, raw. */
async function onSecondIngest(method: string, path: string, key: string, body?: unknown): Promise<ApiResponse> {
  const response = await fetch(`${secondIngest.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** A project made by the operator, with an admin and a publisher key of its own. */
async function makeProject(name: string, id?: string): Promise<TestProject> {
  const made = await hookbus.api("POST", "/v1/projects", { name, ...(id ? { id } : {}) });
  expect(made.status).toBe(201);
  const key = async (role: string) => {
    const answer = await hookbus.api("POST", `/v1/projects/${made.body.id}/keys`, { role, name: `${name} ${role}` });
    expect(answer.status).toBe(201);
    return answer.body.key as string;
  };
  return { id: made.body.id, adminKey: await key("admin"), publisherKey: await key("publisher") };
}

/** A subscription to record.updated made by a project's admin key, in its project. */
async function subscribe(project: TestProject, target: TestReceiver, eventTypes = ["record.updated"]): Promise<string> {
  const made = await hookbus.api("POST", "/v1/subscriptions", { url: target.url, eventTypes }, project.adminKey);
  expect(made.status).toBe(201);
  expect(made.body.projectId).toBe(project.id);
  return made.body.id;
}

test("an operator makes projects, a MyDataHelps GUID kept as the id, else a prj_ one; a project's admin key sees and renames only its own", async () => {
  const study = await makeProject("Sleep study", STUDY_GUID);
  const other = await makeProject("Heart study");
  expect(study.id).toBe(STUDY_GUID);
  expect(other.id).toMatch(/^prj_[0-9A-Z]{26}$/);
  expect((await hookbus.api("POST", "/v1/projects", { name: "again", id: STUDY_GUID })).status).toBe(409);

  const listed = await hookbus.api("GET", "/v1/projects");
  expect(listed.body.items.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining(["default", study.id, other.id]));
  const ownList = await hookbus.api("GET", "/v1/projects", undefined, study.adminKey);
  expect(ownList.body.items.map((p: { id: string }) => p.id)).toEqual([study.id]);

  const renamed = await hookbus.api("PATCH", `/v1/projects/${study.id}`, { name: "Sleep study 2", retrySchedule: ["1s"] }, study.adminKey);
  expect(renamed.status).toBe(200);
  expect(renamed.body).toMatchObject({ id: study.id, name: "Sleep study 2", retrySchedule: [1000] });
  for (const [method, path, body] of [
    ["GET", `/v1/projects/${other.id}`],
    ["PATCH", `/v1/projects/${other.id}`, { name: "taken over" }],
    ["GET", `/v1/projects/${other.id}/keys`],
    ["POST", `/v1/projects/${other.id}/keys`, { role: "admin", name: "mine now" }],
  ] as const) {
    expect([method, path, (await hookbus.api(method, path, body, study.adminKey)).status]).toEqual([method, path, 404]);
  }
  expect((await hookbus.api("GET", `/v1/projects/${other.id}`)).body.name).toBe("Heart study");
  // Making and deleting projects is the operator's.
  expect((await hookbus.api("POST", "/v1/projects", { name: "mine" }, study.adminKey)).status).toBe(403);
  expect((await hookbus.api("DELETE", `/v1/projects/${study.id}`, undefined, study.adminKey)).status).toBe(403);
  expect((await hookbus.api("GET", "/v1/projects", undefined, study.publisherKey)).status).toBe(403);
  // What spans every project stays the operator's: the sealing keys and the queue board.
  expect((await hookbus.api("GET", "/v1/secrets/keys", undefined, study.adminKey)).status).toBe(403);
  expect((await fetch(`${hookbus.url}/admin/queues`, { headers: { authorization: `Bearer ${study.adminKey}` } })).status).toBe(403);
  expect((await hookbus.api("POST", "/v1/projects", { name: "" })).body).toMatchObject({
    error: "invalid project",
    issues: [expect.anything()],
  });
});

test("a key is shown once with its hbk_ prefix, listed without it, and is never stored or logged in a form that gives it back", async () => {
  const project = await makeProject("Keys study");
  const made = await hookbus.api("POST", `/v1/projects/${project.id}/keys`, { role: "publisher", name: "site A" });
  const key: string = made.body.key;
  expect(key).toMatch(/^hbk_[A-Za-z0-9_-]{43}$/);
  expect(made.body).toMatchObject({ id: expect.stringMatching(/^key_/), projectId: project.id, role: "publisher", name: "site A" });

  expect((await onSecondIngest("POST", "/v1/events", key, recordUpdated())).status).toBe(202);
  // Its use is recorded beside the request, not before the answer.
  const listed = await waitFor(async () => {
    const answer = await hookbus.api("GET", `/v1/projects/${project.id}/keys`, undefined, project.adminKey);
    return answer.body.items.some((k: { id: string; lastUsedAt?: string }) => k.id === made.body.id && k.lastUsedAt) && answer;
  }, "the key's last use");
  const entry = listed.body.items.find((k: { id: string }) => k.id === made.body.id);
  expect(entry).toEqual({
    id: made.body.id,
    projectId: project.id,
    name: "site A",
    role: "publisher",
    createdAt: expect.any(String),
    lastUsedAt: expect.any(String),
  });
  expect(JSON.stringify(listed.body)).not.toContain("hbk_");

  // Neither Redis nor the log holds any key made here, nor a piece of it long enough to matter.
  await waitFor(async () => (await hookbus.dumpRedis()).includes(made.body.id), "the key's record");
  const dump = await hookbus.dumpRedis();
  expect(logs.lines.length).toBeGreaterThan(0);
  for (const secret of [key, project.adminKey, project.publisherKey]) {
    const random = secret.slice("hbk_".length);
    expect(dump).not.toContain(random.slice(0, 16));
    expect(logs.text).not.toContain(random.slice(0, 16));
  }
});

test("a revoked key is refused by every ingest within a second, without a restart", async () => {
  const project = await makeProject("Revoked study");
  // Both ingests have taken the key, so both hold it in their lookup cache.
  expect((await hookbus.publish(recordUpdated(), project.publisherKey)).status).toBe(202);
  expect((await onSecondIngest("POST", "/v1/events", project.publisherKey, recordUpdated())).status).toBe(202);
  const { body: keys } = await hookbus.api("GET", `/v1/projects/${project.id}/keys`);
  const publisherKeyId = keys.items.find((k: { role: string }) => k.role === "publisher").id;

  expect((await hookbus.api("DELETE", `/v1/projects/${project.id}/keys/${publisherKeyId}`, undefined, project.adminKey)).status).toBe(204);
  const revokedAt = Date.now();
  // The ingest that revoked it refuses it at once; the other once its cache has lapsed, well within a second.
  expect((await hookbus.publish(recordUpdated(), project.publisherKey)).status).toBe(401);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, revokedAt + KEY_LOOKUP_TTL_MS - Date.now())));
  const late = await onSecondIngest("POST", "/v1/events", project.publisherKey, recordUpdated());
  expect([late.status, late.body.error]).toEqual([401, "unknown API key"]);
  // The project's other key still works.
  expect((await onSecondIngest("GET", `/v1/projects/${project.id}`, project.adminKey)).status).toBe(200);
  expect((await hookbus.api("DELETE", `/v1/projects/${project.id}/keys/${publisherKeyId}`)).status).toBe(404);
});

test("two projects: each admin lists, reads, changes and deletes only its own subscriptions; the other's ids answer 404", async () => {
  const one = await makeProject("Project one");
  const two = await makeProject("Project two");
  const target = await receivers.start();
  const ofOne = await subscribe(one, target);
  const ofTwo = await subscribe(two, target);

  const listedByOne = await hookbus.api("GET", "/v1/subscriptions", undefined, one.adminKey);
  expect(listedByOne.body.items.map((s: { id: string }) => s.id)).toEqual([ofOne]);
  expect((await hookbus.api("GET", `/v1/subscriptions?projectId=${two.id}`, undefined, one.adminKey)).status).toBe(404);
  const operatorFiltered = await hookbus.api("GET", `/v1/subscriptions?projectId=${two.id}`);
  expect(operatorFiltered.body.items.map((s: { id: string }) => s.id)).toEqual([ofTwo]);
  // A project's key makes subscriptions in its own project only.
  const elsewhere = await hookbus.api(
    "POST",
    "/v1/subscriptions",
    { projectId: two.id, url: target.url, eventTypes: ["record.updated"] },
    one.adminKey,
  );
  expect(elsewhere.status).toBe(404);

  for (const [method, path, body] of [
    ["GET", `/v1/subscriptions/${ofTwo}`],
    ["PATCH", `/v1/subscriptions/${ofTwo}`, { description: "changed by one" }],
    ["POST", `/v1/subscriptions/${ofTwo}/rotate-secret`],
    ["GET", `/v1/subscriptions/${ofTwo}/stats`],
    ["POST", `/v1/subscriptions/${ofTwo}/test`, {}],
    ["DELETE", `/v1/subscriptions/${ofTwo}`],
  ] as const) {
    const answer = await hookbus.api(method, path, body, one.adminKey);
    expect([method, path, answer.status, answer.body?.error]).toEqual([method, path, 404, `subscription ${ofTwo} not found`]);
  }
  const untouched = await hookbus.api("GET", `/v1/subscriptions/${ofTwo}`, undefined, two.adminKey);
  expect([untouched.status, untouched.body.description]).toEqual([200, undefined]);
  expect((await hookbus.api("PATCH", `/v1/subscriptions/${ofOne}`, { description: "mine" }, one.adminKey)).body.description).toBe("mine");
});

test("a project's publisher may not publish another project's MyDataHelps event; its TrialKit event reaches only its own project", async () => {
  const study = await getOrMakeStudy();
  const other = await makeProject("Other study");
  const target = await receivers.start();
  const types = ["record.updated", "survey.submitted"];
  const ofStudy = await subscribe(study, target, types);
  const ofOther = await subscribe(other, target, types);
  const ofDefault = (await hookbus.createSubscription({ url: target.url, eventTypes: types })).id;

  const refused = await hookbus.publish(surveySubmitted(), other.publisherKey);
  expect(refused.status).toBe(403);
  expect(refused.body.error).toContain(`data.projectId ${STUDY_GUID} is not this key's project`);
  expect((await hookbus.publish({ ...recordUpdated(), projectId: study.id }, other.publisherKey)).status).toBe(403);
  const batch = await hookbus.api("POST", "/v1/events/batch", { events: [surveySubmitted(), recordUpdated()] }, other.publisherKey);
  expect(batch.body.items).toEqual([
    { error: expect.stringContaining("is not this key's project") },
    { id: expect.any(String), type: "record.updated" },
  ]);

  const studySurvey = await hookbus.publish(surveySubmitted(), study.publisherKey);
  const studyRecord = await hookbus.publish(recordUpdated(), study.publisherKey);
  // An operator names the project it publishes in; unnamed, it is the default project.
  const operatorNamed = await hookbus.publish({ ...recordUpdated(), projectId: other.id });
  const operatorUnnamed = await hookbus.publish(recordUpdated());
  const nowhere = await hookbus.publish({ ...recordUpdated(), projectId: "prj_01M96M7HM2Y3TA5B2ZFZFHZSFR" });
  expect([nowhere.status, nowhere.body.issues?.[0]?.path]).toEqual([422, ["projectId"]]);
  expect(await routedTo(studySurvey.body.id)).toEqual([ofStudy]);
  expect(await routedTo(studyRecord.body.id)).toEqual([ofStudy]);
  expect(await routedTo(batch.body.items[1].id)).toEqual([ofOther]);
  expect(await routedTo(operatorNamed.body.id)).toEqual([ofOther]);
  expect(await routedTo(operatorUnnamed.body.id)).toEqual([ofDefault]);
});

test("deliveries, events, replays (single and bulk) and the overview of one project never show or reach another's", async () => {
  const failing = () => receivers.start(() => ({ status: 500 }));
  const projects = [await makeProject("Replay one"), await makeProject("Replay two")] as const;
  const seen = await Promise.all(
    projects.map(async (project) => {
      const target = await failing();
      const made = await hookbus.api(
        "POST",
        "/v1/subscriptions",
        { url: target.url, eventTypes: ["record.created"], retrySchedule: [] },
        project.adminKey,
      );
      const published = await hookbus.publish(
        { type: "record.created", data: { transId: "1", formId: "9", formName: "F" } },
        project.publisherKey,
      );
      const [delivery] = await hookbus.deliveriesOf(published.body.id);
      await hookbus.deliveryWithStatus(delivery.id, "failed");
      return { target, subscriptionId: made.body.id as string, eventId: published.body.id as string, deliveryId: delivery.id };
    }),
  );
  const [one, two] = projects;
  const [mine, theirs] = seen as [(typeof seen)[number], (typeof seen)[number]];

  const listed = await hookbus.api("GET", "/v1/deliveries?limit=500", undefined, one.adminKey);
  expect(listed.body.items.map((d: { id: string; projectId: string }) => [d.id, d.projectId])).toEqual([[mine.deliveryId, one.id]]);
  expect((await hookbus.api("GET", `/v1/deliveries?projectId=${two.id}`, undefined, one.adminKey)).status).toBe(404);
  const operatorListed = await hookbus.api("GET", `/v1/deliveries?projectId=${two.id}`);
  expect(operatorListed.body.items.map((d: { id: string }) => d.id)).toEqual([theirs.deliveryId]);
  for (const [method, path] of [
    ["GET", `/v1/deliveries/${theirs.deliveryId}`],
    ["POST", `/v1/deliveries/${theirs.deliveryId}/replay`],
    ["GET", `/v1/events/${theirs.eventId}`],
  ] as const) {
    expect([method, path, (await hookbus.api(method, path, undefined, one.adminKey)).status]).toEqual([method, path, 404]);
  }
  expect((await hookbus.api("GET", `/v1/events/${mine.eventId}`, undefined, one.adminKey)).body.projectId).toBe(one.id);

  const overview = await hookbus.api("GET", "/v1/overview", undefined, one.adminKey);
  const created = overview.body.minutes.reduce((sum: number, m: { deliveries: number }) => sum + m.deliveries, 0);
  expect(created).toBe(1);
  expect(overview.body.slowestEndpoints.map((e: { subscriptionId: string }) => e.subscriptionId)).toEqual([mine.subscriptionId]);

  // A bulk replay of every failed delivery, by one project's key, takes that project's alone.
  expect((await hookbus.api("POST", "/v1/deliveries/replay", { dryRun: true }, one.adminKey)).body).toEqual({ dryRun: true, count: 1 });
  const replay = await hookbus.api("POST", "/v1/deliveries/replay", {}, one.adminKey);
  expect([replay.status, replay.body.replayed]).toEqual([202, 1]);
  await mine.target.waitForRequests(2);
  await waitFor(
    async () => (await hookbus.api("GET", `/v1/replays/${replay.body.id}`, undefined, one.adminKey)).body.status === "done",
    "the replay",
  );
  expect((await hookbus.api("GET", `/v1/replays/${replay.body.id}`, undefined, two.adminKey)).status).toBe(404);
  expect((await hookbus.delivery(theirs.deliveryId)).attemptCount).toBe(1);
  expect(theirs.target.requests).toHaveLength(1);
});

test("a subscription.disabled event is its own project's: another project subscribed to that type does not hear of it", async () => {
  const projects = [await makeProject("Watched one"), await makeProject("Watched two")] as const;
  const [watcherOfOne, watcherOfTwo] = await Promise.all(projects.map(() => receivers.start()));
  await subscribe(projects[0], watcherOfOne!, ["subscription.disabled"]);
  await subscribe(projects[1], watcherOfTwo!, ["subscription.disabled"]);
  const paused = await subscribe(projects[0], await receivers.start());

  expect((await hookbus.api("PATCH", `/v1/subscriptions/${paused}`, { enabled: false }, projects[0].adminKey)).status).toBe(200);
  const [announcement] = await watcherOfOne!.waitForRequests(1);
  const { data } = JSON.parse(announcement!.body);
  expect(data).toMatchObject({ subscriptionId: paused, reason: "admin" });
  // One route job made every delivery of that event: the other project's would exist by now.
  const elsewhere = await hookbus.api("GET", `/v1/deliveries?projectId=${projects[1].id}&eventType=subscription.disabled`);
  expect(elsewhere.body.items).toEqual([]);
  expect(watcherOfTwo!.requests).toHaveLength(0);
});

test("deleting a project with subscriptions is refused unless cascading, which takes its subscriptions and keys with it", async () => {
  const project = await makeProject("Short study");
  const target = await receivers.start();
  const subscriptionId = await subscribe(project, target);
  const refused = await hookbus.api("DELETE", `/v1/projects/${project.id}`);
  expect([refused.status, refused.body.error]).toEqual([409, expect.stringContaining("cascade=true")]);
  expect((await hookbus.api("DELETE", "/v1/projects/default?cascade=true")).status).toBe(409);
  expect((await hookbus.api("DELETE", `/v1/projects/${project.id}?cascade=true`)).status).toBe(204);
  expect((await hookbus.api("GET", `/v1/subscriptions/${subscriptionId}`)).status).toBe(404);
  expect((await hookbus.api("GET", `/v1/projects/${project.id}`)).status).toBe(404);
  expect((await hookbus.api("GET", "/v1/subscriptions", undefined, project.adminKey)).status).toBe(401);
});

test("subscriptions stored before projects belong to the default project: they still list and receive what they did", async () => {
  const target = await receivers.start();
  const created = await hookbus.createSubscription({
    url: target.url,
    eventTypes: ["record.updated"],
    filter: { formIds: ["legacy-form"] },
  });
  // Written back as the previous version stored it, with no projectId, and announced as any change is.
  const key = `${hookbus.config.queuePrefix}:sub:${created.id}`;
  const { projectId: _dropped, ...previous } = JSON.parse((await hookbus.redisCommand("GET", key)) as string);
  await hookbus.redisCommand("SET", key, JSON.stringify(previous));
  await hookbus.redisCommand("INCR", `${hookbus.config.queuePrefix}:subs:version`);
  await hookbus.redisCommand("PUBLISH", `${hookbus.config.queuePrefix}:subs:changed`, created.id);

  const listed = await hookbus.api("GET", "/v1/subscriptions?projectId=default&limit=500");
  expect(listed.body.items.find((s: { id: string }) => s.id === created.id)).toMatchObject({ projectId: "default" });
  const project = await makeProject("New study");
  expect((await hookbus.api("GET", `/v1/subscriptions/${created.id}`, undefined, project.adminKey)).status).toBe(404);

  const fromProject = await hookbus.publish(recordUpdated("legacy-form"), project.publisherKey);
  const unnamed = await hookbus.publish(recordUpdated("legacy-form"));
  expect(await routedTo(fromProject.body.id)).toEqual([]);
  expect(await routedTo(unnamed.body.id)).toContain(created.id);
  const [request] = await target.waitForRequests(1);
  expect(JSON.parse(request!.body).data.formId).toBe("legacy-form");
  // Its delivery is written as before projects too, and listed in the default project.
  const { body: event } = await hookbus.api("GET", `/v1/events/${unnamed.body.id}`);
  const delivery = event.deliveries.find((d: { subscriptionId: string }) => d.subscriptionId === created.id);
  expect(await hookbus.redisCommand("HEXISTS", hookbus.context().keys.delivery(delivery.id), "projectId")).toBe(0);
  const inDefault = await hookbus.api("GET", `/v1/deliveries?projectId=default&subscriptionId=${created.id}`);
  expect(inDefault.body.items.map((d: { id: string; projectId: string }) => [d.id, d.projectId])).toEqual([[delivery.id, "default"]]);
  // The event is stored as before projects too: no project named means the default one.
  expect(JSON.parse((await hookbus.redisCommand("GET", hookbus.context().keys.event(unnamed.body.id))) as string)).not.toHaveProperty(
    "projectId",
  );
});

/** The subscriptions an event was routed to, read once its route job has run. */
async function routedTo(eventId: string): Promise<string[]> {
  await waitFor(() => hookbus.routed(eventId), `event ${eventId} to be routed`);
  const { body } = await hookbus.api("GET", `/v1/events/${eventId}`);
  return body.deliveries.map((d: { subscriptionId: string }) => d.subscriptionId).sort();
}

/** The project named by the MyDataHelps fixture's GUID: made by the first test, or here when run alone. */
async function getOrMakeStudy(): Promise<TestProject> {
  const exists = (await hookbus.api("GET", `/v1/projects/${STUDY_GUID}`)).status === 200;
  if (!exists) return makeProject("Sleep study", STUDY_GUID);
  const key = async (role: string) =>
    (await hookbus.api("POST", `/v1/projects/${STUDY_GUID}/keys`, { role, name: role })).body.key as string;
  return { id: STUDY_GUID, adminKey: await key("admin"), publisherKey: await key("publisher") };
}
