import { createLogger } from "@hookbus/core/runtime";
import { surveySubmitted as survey } from "../fixtures/events.js";
import { startIngest, type RunningIngest } from "@hookbus/ingest";
import { startWorker, type RunningWorker } from "@hookbus/worker";
import { testConfig, waitFor } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";

/** Every JSON line a logger wrote, as pino writes it (redaction applied). */
class CapturedLogs {
  readonly lines: string[] = [];
  readonly destination = { write: (line: string) => void this.lines.push(line) };

  get text(): string {
    return this.lines.join("");
  }
}

const PASSWORD = "correct-horse-battery-staple-7731";
const config = testConfig({ LOG_LEVEL: "debug" });
const ingestLogs = new CapturedLogs();
const workerLogs = new CapturedLogs();
let ingest: RunningIngest;
let worker: RunningWorker;
let receiver: TestReceiver;

async function api(method: string, path: string, key: string, body?: unknown): Promise<any> {
  const response = await fetch(`${ingest.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  ingest = await startIngest(config, { logger: createLogger("hookbus-ingest", "debug", ingestLogs.destination) });
  worker = await startWorker(config, { logger: createLogger("hookbus-worker", "debug", workerLogs.destination) });
  // A failure first, so the retry path logs too.
  receiver = await TestReceiver.start((_request, index) => ({ status: index === 0 ? 503 : 200 }));
});

afterAll(async () => {
  await worker.close();
  await ingest.close();
  await receiver.stop();
});

test("logs carry the event and delivery ids of a delivery but never its secret, its basic auth password or an API key", async () => {
  const subscription = await api("POST", "/v1/subscriptions", config.adminKey, {
    url: receiver.url,
    eventTypes: ["survey.submitted"],
    auth: { type: "basic", username: "trialkit", password: PASSWORD },
    headers: { "x-team": "observability" },
    retrySchedule: ["10ms"],
  });
  expect(subscription.status).toBe(201);
  const published = await api("POST", "/v1/events", config.publisherKey, survey());
  expect(published.status).toBe(202);
  const [delivered, retried] = await receiver.waitForRequests(2);
  const deliveryId = delivered!.headers["webhook-id"] as string;
  expect(retried!.headers["webhook-id"]).toBe(deliveryId);
  const basicCredentials = (retried!.headers.authorization as string).replace(/^Basic /, "");
  expect(Buffer.from(basicCredentials, "base64").toString()).toBe(`trialkit:${PASSWORD}`);

  // Both attempts have been logged once the delivery reads as delivered.
  await waitFor(
    async () => (await api("GET", `/v1/deliveries/${deliveryId}`, config.adminKey)).body.status === "delivered",
    "the delivery to be delivered",
  );
  await waitFor(() => workerLogs.lines.filter((line) => line.includes(deliveryId)).length >= 2, "both attempts in the worker's log");

  expect(ingestLogs.lines.length).toBeGreaterThan(0);
  const everything = ingestLogs.text + workerLogs.text;
  for (const line of [...ingestLogs.lines, ...workerLogs.lines]) expect(() => JSON.parse(line)).not.toThrow();
  expect(everything).toContain(published.body.id);
  expect(everything).toContain(deliveryId);
  // The ingest ties the accepted event to the request that brought it.
  const accepted = ingestLogs.lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === "event accepted");
  expect(accepted).toMatchObject({ eventId: published.body.id, requestId: expect.stringMatching(/^[\w.:-]+$/) });
  const completed = ingestLogs.lines.map((line) => JSON.parse(line)).filter((entry) => entry.requestId === accepted.requestId);
  expect(completed.map((entry) => entry.msg)).toEqual(["event accepted", "request completed"]);
  const secrets = {
    signingSecret: subscription.body.secret as string,
    signingKey: (subscription.body.secret as string).replace(/^whsec_/, ""),
    password: PASSWORD,
    basicCredentials,
    adminKey: config.adminKey,
    publisherKey: config.publisherKey,
  };
  for (const [name, secret] of Object.entries(secrets))
    expect({ name, leaked: everything.includes(secret) }).toEqual({ name, leaked: false });
});
