import { apiRoutes } from "@hookbus/schemas";
import { recordUpdated, surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { TestReceiver } from "./support/receiver.js";

let hookbus: TestHookbus;
let receiver: TestReceiver;

beforeAll(async () => {
  hookbus = await TestHookbus.start();
  // Every attempt fails, so deliveries become dead letters that can be replayed.
  receiver = await TestReceiver.start(() => ({ status: 500 }));
});

afterAll(async () => {
  await hookbus.stop();
  await receiver.stop();
});

/**
 * Calls a route and checks its answer against the route table's schema for that status: the
 * status must be documented, and parsing the body must give back the very same body, so a
 * field the contract lacks (which zod would strip) or a missing or mistyped one fails here.
 */
async function asDocumented(method: string, pattern: string, params: Record<string, string>, body?: unknown, key?: string): Promise<any> {
  const route = apiRoutes.find((r) => r.method === method.toLowerCase() && r.path === pattern);
  if (!route) throw new Error(`${method} ${pattern} is not in the route table`);
  const path = pattern.replace(/:(\w+)/g, (_match, name: string) => params[name]!);
  const response = await hookbus.api(method, path, body, key);
  const documented = route.responses[response.status];
  expect([method, pattern, response.status, documented !== undefined]).toEqual([method, pattern, response.status, true]);
  if (documented!.schema) expect(documented!.schema.parse(response.body)).toEqual(response.body);
  else expect(response.body).toBeUndefined();
  return response.body;
}

test("every answer of the admin and publish API is exactly what the contract describes", async () => {
  const created = await asDocumented(
    "POST",
    "/v1/subscriptions",
    {},
    {
      url: receiver.url,
      eventTypes: ["survey.submitted", "record.updated"],
      retrySchedule: [],
      headers: { "X-Study": "A" },
      auth: { type: "basic", username: "trialkit", password: "receiver-password" },
    },
  );
  expect(created.secret).toMatch(/^whsec_/);
  expect(JSON.stringify(created)).not.toContain("receiver-password");
  const id = { id: created.id };

  const read = await asDocumented("GET", "/v1/subscriptions/:id", id);
  expect(read.secret).toBeUndefined();
  await asDocumented("GET", "/v1/subscriptions", {});
  await asDocumented("PATCH", "/v1/subscriptions/:id", id, { description: "contract check" });
  await asDocumented("POST", "/v1/subscriptions/:id/rotate-secret", id);

  const event = await asDocumented("POST", "/v1/events", {}, surveySubmitted(), hookbus.config.publisherKey);
  const batch = await asDocumented(
    "POST",
    "/v1/events/batch",
    {},
    { events: [recordUpdated(), { type: "nope" }] },
    hookbus.config.publisherKey,
  );
  expect(batch.items.map((item: any) => "error" in item)).toEqual([false, true]);

  // Both deliveries fail their one attempt and are dead-lettered.
  const deadLetters = await waitFor(async () => {
    const page = (await hookbus.api("GET", `/v1/deliveries?status=failed&subscriptionId=${created.id}`)).body;
    return page.items.length === 2 && page;
  }, "both deliveries dead-lettered");
  await asDocumented("GET", "/v1/deliveries", {}, undefined);
  const delivery = await asDocumented("GET", "/v1/deliveries/:id", { id: deadLetters.items[0].id });
  expect(delivery.attempts.length).toBeGreaterThan(0);
  await asDocumented("GET", "/v1/events/:id", { id: event.id });
  await asDocumented("GET", "/v1/subscriptions/:id/stats", id);

  await asDocumented("POST", "/v1/deliveries/:id/replay", { id: deadLetters.items[1].id });
  const dryRun = await asDocumented("POST", "/v1/deliveries/replay", {}, { subscriptionId: created.id, dryRun: true });
  expect(dryRun.dryRun).toBe(true);
  const replay = await asDocumented("POST", "/v1/deliveries/replay", {}, { subscriptionId: created.id });
  await asDocumented("GET", "/v1/replays/:id", { id: replay.id });

  const sample = await asDocumented("POST", "/v1/subscriptions/:id/test", id, { type: "record.updated" });
  expect(sample.outcome).toBe("failed");

  // Errors too: refused bodies and unknown ids answer the error body.
  await asDocumented("POST", "/v1/subscriptions", {}, { url: "not a url" });
  await asDocumented("GET", "/v1/deliveries/:id", { id: "dlv_00000000000000000000000000" });
  await asDocumented("DELETE", "/v1/subscriptions/:id", id);
});
