import { HookbusClient } from "@hookbus/client";
import { distinctiveParticipant, recordOf, scheduleOf, surveyOf, valuesOf } from "../fixtures/participants.js";
import { testConfig, waitFor } from "../support/harness.js";
import { spawnWithOutput } from "../support/processes.js";
import { ReceiverPool, type ReceivedRequest } from "../support/receiver.js";

// Participant data through every path, with the ingest and a worker as processes of their own
// logging at debug: not one line they write, nor their /metrics, may carry a participant's value.
const config = testConfig({ LOG_LEVEL: "debug", HOOKBUS_CIRCUIT_FAILURES: "10000" });
const receivers = new ReceiverPool();
const ingest = spawnWithOutput("ingest", config);
const worker = spawnWithOutput("worker", config);

afterAll(async () => {
  await Promise.all([ingest.stop(), worker.stop()]);
  await receivers.stopAll();
});

/** The first line an app logged with this message, parsed, once it has. */
function logged(lines: string[], msg: string): Promise<Record<string, any>> {
  return waitFor(() => lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === msg), `"${msg}" in the log`, 30_000);
}

const echo = (status: number) => (request: ReceivedRequest) => ({ status, body: request.body });

test("no log line at any level and no metric carries a participant's id, identifier or trans_id, nor a request or response body", async () => {
  const { port } = await logged(ingest.lines, "ingest listening");
  const { metricsPort } = await logged(worker.lines, "worker started");
  const url = `http://127.0.0.1:${port}`;
  const admin = new HookbusClient({ baseUrl: url, apiKey: config.adminKey });
  const publisher = new HookbusClient({ baseUrl: url, apiKey: config.publisherKey });
  const alice = distinctiveParticipant("ALICE");

  const accepting = await receivers.start(echo(200));
  const failing = await receivers.start(echo(500));
  await admin.subscriptions.create({ url: accepting.url, eventTypes: ["survey.submitted", "record.updated"] });
  // Native bodies with legacy parameters, echoed back by a receiver that fails: retried, then dead letters.
  await admin.subscriptions.create({
    url: failing.url,
    eventTypes: ["survey.submitted", "schedule.triggered", "record.updated"],
    format: "native",
    legacyParameters: true,
    retrySchedule: ["10ms"],
  });
  await admin.subscriptions.create({ url: accepting.url, eventTypes: ["record.created"], mode: "sync", format: "native" });
  const sampled = await admin.subscriptions.create({ url: failing.url, eventTypes: ["survey.submitted"], environment: "test" });

  await publisher.publish(surveyOf(alice));
  await publisher.publish(scheduleOf(alice));
  await publisher.publishBatch([surveyOf(alice, "Weekly"), recordOf(alice)]);
  const sync = await publisher.publish(recordOf(alice, "record.created"));
  expect(JSON.stringify(sync)).toContain(alice.transId);
  // Refused bodies: an unknown legacy key, a value where a GUID belongs, JSON cut short.
  for (const body of [
    JSON.stringify({ ...surveyOf(alice), data: { ...surveyOf(alice).data, PatientID: alice.participantId } }),
    JSON.stringify({ ...surveyOf(alice), data: { ...surveyOf(alice).data, participantId: alice.participantIdentifier } }),
    JSON.stringify(surveyOf(alice)).slice(0, -3),
  ]) {
    const refused = await fetch(`${url}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${config.publisherKey}`, "content-type": "application/json" },
      body,
    });
    expect([400, 422]).toContain(refused.status);
  }

  // 2 survey + 1 schedule + 1 record to the failing receiver, each tried twice: dead letters.
  await waitFor(async () => (await admin.deliveries.list({ status: "failed" })).items.length === 4, "4 dead letters", 30_000, 100);
  const replay = await admin.replays.run({ status: "failed" }, { pollMs: 100 });
  expect(replay).toMatchObject({ status: "done", failed: 4 });
  const [dead] = (await admin.deliveries.list({ status: "failed" })).items;
  await admin.deliveries.replay(dead!.id);
  await waitFor(
    async () => (await admin.deliveries.get(dead!.id)).replays === 2 && (await admin.deliveries.get(dead!.id)).status === "failed",
    "the replay",
    30_000,
    100,
  );
  expect((await admin.subscriptions.sendSample(sampled.id)).outcome).toBe("failed");
  expect(await admin.erasures.run({ transId: alice.transId }, { pollMs: 100 })).toMatchObject({ status: "done", events: 2 });
  // The receivers did get the values, legacy parameters included: what the apps must not repeat.
  const bodies = [...accepting.requests, ...failing.requests].map((r) => r.body).join("\n");
  expect(valuesOf(alice).every((value) => bodies.includes(value))).toBe(true);
  expect(bodies).toContain(`"PatientIdentifier":"${alice.participantIdentifier}"`);

  const metrics = (await Promise.all([port, metricsPort].map(async (p) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text()))).join(
    "\n",
  );
  await Promise.all([ingest.stop(), worker.stop()]);
  const lines = [...ingest.lines, ...worker.lines];
  // Debug lines were written: the search below searched what the apps say at their most talkative.
  expect(lines.some((line) => JSON.parse(line).level === 20)).toBe(true);
  expect(lines.some((line) => line.includes(sync.id))).toBe(true);
  expect(metrics).toContain("hookbus_");
  const leaks = [...lines, metrics].flatMap((text) =>
    valuesOf(alice)
      .filter((value) => text.includes(value))
      .map((value) => ({ value, text })),
  );
  expect(leaks).toEqual([]);
  // Nor a body: no line carries the envelope's or a native body's fields.
  expect(lines.filter((line) => /"(data|surveyName|SurveyName|form_id|trans_id|PatientID)"/.test(line))).toEqual([]);
}, 120_000);
