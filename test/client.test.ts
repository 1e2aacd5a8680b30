import { HookbusApiError, HookbusClient, HookbusUnreachableError, verifyWebhook } from "@hookbus/client";
import type { ReplayView } from "@hookbus/schemas";
import { recordUpdated } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
let receiver: TestReceiver;
let failing = true;

beforeEach(async () => {
  failing = true;
  // Dead letters are made on purpose here: the circuit must not hold them back first.
  hookbus = await TestHookbus.start({ env: { HOOKBUS_CIRCUIT_FAILURES: "1000" } });
  receiver = await TestReceiver.start(() => (failing ? { status: 500 } : { status: 200 }));
});

afterEach(async () => {
  await hookbus.stop();
  await receiver.stop();
});

test("an invalid request is a HookbusApiError carrying the status and the API's zod issues", async () => {
  const error = await hookbus.client.subscriptions.create({ url: "not a url", eventTypes: [] }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HookbusApiError);
  expect((error as HookbusApiError).status).toBe(422);
  const paths = (error as HookbusApiError).issues.map((issue) => issue.path.join("."));
  expect(paths).toEqual(expect.arrayContaining(["url", "eventTypes"]));

  const forbidden = await hookbus.publisher.subscriptions.list().catch((e: unknown) => e);
  expect(forbidden).toMatchObject({ status: 403 });
});

test("a client pointed at nothing says it cannot reach the API", async () => {
  const nowhere = new HookbusClient({ baseUrl: "http://127.0.0.1:9", apiKey: "x", timeoutMs: 2000 });
  await expect(nowhere.deliveries.list()).rejects.toBeInstanceOf(HookbusUnreachableError);
});

test("deliveries are read page after page by the async iterator, each once", async () => {
  failing = false;
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] });
  const published = await hookbus.publisher.publishBatch(Array.from({ length: 23 }, (_, i) => recordUpdated(String(i))));
  expect(published.items.every((item) => "id" in item)).toBe(true);
  await waitFor(
    async () => (await hookbus.client.deliveries.list({ status: "delivered", limit: 500 })).items.length === 23,
    "23 deliveries",
  );

  const seen: string[] = [];
  for await (const delivery of hookbus.client.deliveries.iterate({ status: "delivered" }, 5)) seen.push(delivery.id);
  expect(seen).toHaveLength(23);
  expect(new Set(seen).size).toBe(23);
  const firstPage = await hookbus.client.deliveries.list({ limit: 5 });
  expect(firstPage.nextCursor).toBe(firstPage.items.at(-1)!.id);
});

test("a bulk replay run reports its progress until every dead letter is delivered", async () => {
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"], retrySchedule: [] });
  for (let i = 0; i < 12; i++) await hookbus.publisher.publish(recordUpdated(String(i)));
  await waitFor(
    async () => (await hookbus.client.deliveries.list({ status: "failed", limit: 500 })).items.length === 12,
    "12 dead letters",
  );

  failing = false;
  const dryRun = await hookbus.client.replays.start({ dryRun: true });
  expect(dryRun).toEqual({ dryRun: true, count: 12 });
  const progress: ReplayView[] = [];
  const final = await hookbus.client.replays.run({}, { pollMs: 50, onProgress: (replay) => progress.push(replay) });
  expect(final).toMatchObject({ status: "done", total: 12, done: 12, failed: 0 });
  expect(progress.at(-1)).toEqual(final);
  expect(progress.every((replay, i) => i === 0 || replay.done >= progress[i - 1]!.done)).toBe(true);
});

test("verifyWebhook accepts a real delivery and refuses it tampered with or under another secret", async () => {
  failing = false;
  const { secret } = await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.updated"] });
  await hookbus.publisher.publish(recordUpdated("7"));
  const [request] = await receiver.waitForRequests(1);

  const event = verifyWebhook<{ type: string; data: { formId: string } }>(secret, request!.body, request!.headers);
  expect(event.type).toBe("record.updated");
  expect(event.data.formId).toBe("7");
  expect(() => verifyWebhook(secret, request!.body.replace('"formId":"7"', '"formId":"8"'), request!.headers)).toThrow();
  const other = (await hookbus.createSubscription({ url: receiver.url, eventTypes: ["record.created"] })).secret;
  expect(() => verifyWebhook(other, request!.body, request!.headers)).toThrow();
  expect(() => verifyWebhook(secret, request!.body, new Headers(request!.headers as Record<string, string>))).not.toThrow();
});

test("the client makes a project and its keys; a key it makes works as a client of its own, and is refused once revoked", async () => {
  const project = await hookbus.client.projects.create({ name: "Client study" });
  expect((await hookbus.client.projects.list()).items.map((p) => p.id)).toContain(project.id);
  expect(await hookbus.client.projects.update(project.id, { name: "Renamed" })).toMatchObject({ id: project.id, name: "Renamed" });

  const made = await hookbus.client.keys.create(project.id, { role: "admin", name: "coordinator" });
  const coordinator = new HookbusClient({ baseUrl: hookbus.url, apiKey: made.key });
  expect((await coordinator.projects.list()).items.map((p) => p.id)).toEqual([project.id]);
  const subscription = await coordinator.subscriptions.create({ url: receiver.url, eventTypes: ["record.updated"] });
  expect(subscription.projectId).toBe(project.id);
  expect((await hookbus.client.keys.list(project.id)).items.map((k) => [k.id, k.role])).toEqual([[made.id, "admin"]]);

  await expect(hookbus.client.projects.delete(project.id)).rejects.toMatchObject({ status: 409 });
  await hookbus.client.keys.revoke(project.id, made.id);
  await expect(coordinator.projects.list()).rejects.toMatchObject({ status: 401 });
  await hookbus.client.projects.delete(project.id, { cascade: true });
  await expect(hookbus.client.projects.get(project.id)).rejects.toMatchObject({ status: 404 });
});
