import { Webhook } from "standardwebhooks";
import { eventDataSchemas } from "@hookbus/schemas";
import { surveySubmitted } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool, type ReceivedRequest } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();
const receiver = receivers.start;

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

const verify = (secret: string, request: ReceivedRequest) => {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};

test("send-sample reaches a test subscription with data valid for the type; live events never reach it", async () => {
  hookbus = await TestHookbus.start();
  const testEndpoint = await receiver();
  const liveEndpoint = await receiver();
  const testSubscription = await hookbus.createSubscription({
    url: testEndpoint.url,
    eventTypes: ["survey.submitted", "record.review_changed"],
    environment: "test",
  });
  await hookbus.createSubscription({ url: liveEndpoint.url, eventTypes: ["survey.submitted", "record.review_changed"] });

  for (const type of ["survey.submitted", "record.review_changed"] as const) {
    const sample = await hookbus.api("POST", `/v1/subscriptions/${testSubscription.id}/test`, { type });
    expect(sample.status).toBe(200);
    expect(sample.body).toMatchObject({
      eventId: expect.stringMatching(/^evt_/),
      deliveryId: expect.stringMatching(/^dlv_/),
      type,
      outcome: "delivered",
      statusCode: 200,
    });
    const request = testEndpoint.requests.at(-1)!;
    const envelope = JSON.parse(request.body);
    expect(envelope.type).toBe(type);
    expect(eventDataSchemas[type].safeParse(envelope.data).success).toBe(true);
    expect(verify(testSubscription.secret, request)).toBe(true);
  }
  // The default type is the subscription's first.
  const defaulted = await hookbus.api("POST", `/v1/subscriptions/${testSubscription.id}/test`, {});
  expect(defaulted.body.type).toBe("survey.submitted");

  await hookbus.publish(surveySubmitted());
  await liveEndpoint.waitForRequests(1);
  expect(testEndpoint.requests).toHaveLength(3);
  // Samples went to the test subscription alone.
  expect(liveEndpoint.requests).toHaveLength(1);

  const unknownType = await hookbus.api("POST", `/v1/subscriptions/${testSubscription.id}/test`, { type: "survey.deleted" });
  expect(unknownType.status).toBe(422);
});

test("after a rotation both secrets sign for the overlap, then only the new one", async () => {
  hookbus = await TestHookbus.start({ env: { HOOKBUS_SECRET_OVERLAP: "1500ms" } });
  const endpoint = await receiver();
  const created = await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["survey.submitted"] });
  const rotated = await hookbus.api("POST", `/v1/subscriptions/${created.id}/rotate-secret`);
  expect(rotated.status).toBe(200);
  const newSecret: string = rotated.body.secret;
  expect(newSecret).not.toBe(created.secret);
  const rotatedAt = Date.now();

  await hookbus.publish(surveySubmitted());
  const [during] = await endpoint.waitForRequests(1);
  expect(during!.headers["webhook-signature"]!.toString().split(" ")).toHaveLength(2);
  expect(verify(created.secret, during!)).toBe(true);
  expect(verify(newSecret, during!)).toBe(true);

  // Past the overlap the old secret no longer signs.
  const after = await waitFor(
    async () => {
      if (Date.now() - rotatedAt < 1500) return undefined;
      const count = endpoint.requests.length;
      await hookbus.publish(surveySubmitted());
      return endpoint.waitForRequests(count + 1).then((requests) => requests.at(-1));
    },
    "a delivery after the overlap",
    10_000,
    100,
  );
  expect(verify(newSecret, after!)).toBe(true);
  expect(verify(created.secret, after!)).toBe(false);
});

test("past the retention window events and deliveries are gone, and no listing points at them", async () => {
  hookbus = await TestHookbus.start({ env: { HOOKBUS_RETENTION: "1s", HOOKBUS_RETRY_SCHEDULE: "100ms" }, worker: false });
  const worker = await hookbus.startWorker({ maintenance: { intervalMs: 200 } });
  expect(worker).toBeDefined();
  const endpoint = await receiver();
  const subscription = await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["survey.submitted"] });
  const published = await hookbus.publish(surveySubmitted());
  const [{ id }] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(id, "delivered");

  await waitFor(
    async () => (await hookbus.api("GET", `/v1/events/${published.body.id}`)).status === 404,
    "the event to expire",
    10_000,
    100,
  );
  // The delivery's window starts when a worker routes the event, after the event's own: on a busy machine, a while after.
  await waitFor(async () => (await hookbus.api("GET", `/v1/deliveries/${id}`)).status === 404, "the delivery to expire", 10_000, 100);
  for (const query of ["", "?status=delivered", `?subscriptionId=${subscription.id}`, "?eventType=survey.submitted"]) {
    await waitFor(
      async () => (await hookbus.api("GET", `/v1/deliveries${query}`)).body.items.length === 0,
      `an empty listing for '${query}'`,
      10_000,
      100,
    );
  }
  // The sweep empties the indexes themselves, which the stats count.
  await waitFor(
    async () => (await hookbus.api("GET", `/v1/subscriptions/${subscription.id}/stats`)).body.delivered === 0,
    "the sweep",
    10_000,
    100,
  );
  const prefix = hookbus.config.queuePrefix;
  for (const index of ["all", "status:delivered", `sub:${subscription.id}`, "type:survey.submitted"]) {
    expect([index, await hookbus.redisCommand("zcard", `${prefix}:dlvidx:${index}`)]).toEqual([index, 0]);
  }
});
