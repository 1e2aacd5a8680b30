import { startEmbeddedCluster, type EmbeddedCluster } from "@hookbus/dev-redis";
import { surveySubmitted } from "../fixtures/events.js";
import { withNode } from "../support/cluster.js";
import { TestHookbus } from "../support/harness.js";
import { ReceiverPool } from "../support/receiver.js";

let cluster: EmbeddedCluster;
let hookbus: TestHookbus;
const receivers = new ReceiverPool();

beforeAll(async () => {
  cluster = await startEmbeddedCluster({ masters: 3 });
});

afterAll(async () => {
  await hookbus?.stop();
  await receivers.stopAll();
  await cluster?.stop();
});

/** Commands a client sends to keep its connection and its view of the cluster, not Hookbus's work. */
const HOUSEKEEPING = new Set(["cluster", "info", "ping", "client", "command", "hello", "select", "readonly", "config"]);

/** Calls of each master since its counters were reset, Hookbus's commands only (INFO commandstats). */
async function callsPerMaster(): Promise<number[]> {
  return Promise.all(
    cluster.masters.map((master) =>
      withNode(master, async (redis) => {
        let calls = 0;
        for (const [, command, count] of (await redis.info("commandstats")).matchAll(/^cmdstat_([^:|]+)[^:]*:calls=(\d+)/gm))
          if (!HOUSEKEEPING.has(command!)) calls += Number(count);
        return calls;
      }),
    ),
  );
}

test("with the default partitions, no master of three serves more than half of Hookbus's commands, and each holds Hookbus keys", async () => {
  hookbus = await TestHookbus.start({ env: { REDIS_CLUSTER_NODES: cluster.nodes } });
  const receiver = await receivers.start();
  // A few studies' endpoints, each taking its own survey's events.
  const names = ["Daily", "Weekly", "Monthly", "Intake", "Exit", "Follow-up"];
  for (const surveyName of names)
    await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], filter: { surveyNames: [surveyName] } });
  await Promise.all(cluster.masters.map((master) => withNode(master, (redis) => redis.config("RESETSTAT"))));

  // Single publishes, with and without an idempotency key and an ordering key, and batches.
  for (let round = 0; round < 10; round++) {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        hookbus.publish({
          ...surveySubmitted(names[i % names.length]),
          ...(i % 3 === 0 ? { id: `spread-${round}-${i}` } : {}),
          ...(i % 5 === 0 ? { orderingKey: `participant-${i}` } : {}),
        }),
      ),
    );
    const events = Array.from({ length: 20 }, (_, i) => surveySubmitted(names[i % names.length]));
    expect((await hookbus.api("POST", "/v1/events/batch", { events }, hookbus.config.publisherKey)).status).toBe(202);
  }
  await receiver.waitForRequests(400, 30_000);

  const calls = await callsPerMaster();
  const total = calls.reduce((sum, n) => sum + n, 0);
  console.log(`Hookbus's commands per master: ${calls.map((n) => `${((100 * n) / total).toFixed(0)}%`).join(", ")} of ${total}`);
  for (const share of calls.map((n) => n / total)) expect(share).toBeLessThan(0.5);
  const prefixTag = hookbus.config.queuePrefix.slice(0, -1);
  for (const master of cluster.masters) {
    const [, found] = await withNode(master, (redis) => redis.scan("0", "MATCH", `${prefixTag}*`, "COUNT", 10_000));
    expect(found.length).toBeGreaterThan(0);
  }
});
