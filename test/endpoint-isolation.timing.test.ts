import { recordUpdated } from "./fixtures/events.js";
import { TestHookbus, waitFor } from "./support/harness.js";
import { ReceiverPool } from "./support/receiver.js";

let hookbus: TestHookbus;
const receivers = new ReceiverPool();

afterEach(async () => {
  await hookbus.stop();
  await receivers.stopAll();
});

const recordCreated = (transId: string) => ({ type: "record.created", data: { transId, formId: "319", formName: "Sample Form" } });

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

test("one endpoint hanging with 150 deliveries queued holds at most its cap in flight, and 50 healthy subscriptions still get theirs within 100 ms (p99)", async () => {
  // The circuit breaker would stop the hanging endpoint's attempts after a few timeouts; kept
  // out of the way here, the cap alone must hold.
  hookbus = await TestHookbus.start({ env: { HOOKBUS_CIRCUIT_FAILURES: "10000" } });
  const hanging = await receivers.start(() => "hang");
  const healthy = await receivers.start();
  await hookbus.createSubscription({ url: hanging.url, eventTypes: ["record.created"], timeoutMs: 3000, maxInFlight: 10 });
  // Each healthy subscription takes its own form's records, so that each publish is one delivery.
  for (let i = 0; i < 50; i++) {
    await hookbus.createSubscription({ url: `${healthy.url}/${i}`, eventTypes: ["record.updated"], filter: { formIds: [`form-${i}`] } });
  }

  for (let i = 0; i < 150; i += 25) {
    await Promise.all(Array.from({ length: 25 }, (_, j) => hookbus.publish(recordCreated(`hang-${i + j}`))));
  }
  await waitFor(() => hanging.inFlight === 10, "the hanging endpoint to hold its 10 slots");
  // The other 140 wait as delayed jobs, parked at the endpoint: no worker holds them, no attempt is spent.
  const parked = await waitFor(async () => {
    const counts = await hookbus.queueCounts("deliver");
    return counts.delayed === 140 ? counts : undefined;
  }, "140 deliveries parked");
  expect(parked).toMatchObject({ waiting: 0, active: 0 });

  // Rounds over the 50 healthy subscriptions, one publish after another, while the hanging
  // endpoint's 140 other deliveries wait for a slot. The first round warms up (compiled code
  // paths, filled connection pools) and is not counted.
  const publishedAt = new Map<string, number>();
  const rounds = 11;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < 50; i++) {
      const transId = `${round}-${i}`;
      publishedAt.set(transId, Date.now());
      expect((await hookbus.publish({ ...recordUpdated(`form-${i}`), data: { ...recordUpdated(`form-${i}`).data, transId } })).status).toBe(
        202,
      );
    }
  }
  const arrivals = await healthy.waitForRequests(rounds * 50);
  const latencies = arrivals
    .filter((r) => !JSON.parse(r.body).data.transId.startsWith("0-"))
    .map((r) => r.at - publishedAt.get(JSON.parse(r.body).data.transId)!);
  expect(latencies).toHaveLength(500);
  const p99 = percentile(latencies, 99);
  console.log(
    `healthy publish-to-receiver beside a hanging endpoint: p50 ${percentile(latencies, 50)} ms, p99 ${p99} ms over ${latencies.length} deliveries to 50 subscriptions`,
  );
  expect(p99).toBeLessThan(100);

  // The first ten time out and hand their slots on: the next ten arrive, never more at once.
  await hanging.waitForRequests(20, 15_000);
  expect(hanging.maxInFlight).toBe(10);
});
