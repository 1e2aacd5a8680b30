import { startEmbeddedCluster, type EmbeddedCluster } from "@hookbus/dev-redis";
import { masterServing, moveSlot, slotOf, withNode } from "../support/cluster.js";
import { TestHookbus, waitFor } from "../support/harness.js";
import { ReceiverPool } from "../support/receiver.js";
import { deliveredNames, SteadyPublisher } from "../support/steady-publisher.js";

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

test("every script is on every master, so a slot moving to any of them finds them; the rate limit counts from the start", async () => {
  // A pipeline ioredis sends again after a slot moved goes as plain EVALSHA, and the rate
  // limit's script names no key when it is loaded: a master that had not run a script refused
  // it (NOSCRIPT), a publish was answered 503 and requests went uncounted.
  const limited = await TestHookbus.start({ env: { REDIS_CLUSTER_NODES: cluster.nodes, HOOKBUS_RATE_LIMIT: "5" } });
  try {
    const answers = await Promise.all(Array.from({ length: 20 }, () => limited.api("GET", "/v1/overview")));
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(15);
    const cachedScripts = () =>
      Promise.all(
        cluster.masters.map((master) =>
          withNode(master, async (redis) => Number(/number_of_cached_scripts:(\d+)/.exec(await redis.info("memory"))![1])),
        ),
      );
    const counts = await waitFor(async () => {
      const each = await cachedScripts();
      return new Set(each).size === 1 ? each : undefined;
    }, "every master to hold the same scripts");
    expect(counts[0]).toBeGreaterThan(10);
  } finally {
    await limited.stop();
  }
});

test("moving Hookbus's slot to another master while publishing loses nothing and sends nothing twice; the admin API answers 503 at worst", async () => {
  hookbus = await TestHookbus.start({ env: { REDIS_CLUSTER_NODES: cluster.nodes } });
  // Answers take a while, so that attempts are in flight when the slot splits: their records
  // then meet the split.
  const endpoint = await receivers.start(() => ({ status: 200, delayMs: 300 }));
  await hookbus.createSubscription({ url: endpoint.url, eventTypes: ["survey.submitted"], maxInFlight: 100 });
  const slot = await slotOf(cluster.masters[0]!, hookbus.config.queuePrefix);
  const from = await masterServing(cluster.masters, slot);
  const to = cluster.masters.find((master) => master !== from)!;

  const publisher = new SteadyPublisher(hookbus);
  await waitFor(() => publisher.acknowledged.length >= 20, "publishes before the move");
  // An operator reads the admin API throughout: while a script's keys are split between the
  // two masters Redis answers TRYAGAIN, which may refuse a request (503) but is no fault (500).
  let moving = true;
  const adminAnswers: number[] = [];
  const operator = (async () => {
    while (moving)
      for (const path of ["/v1/overview", "/v1/subscriptions", "/v1/deliveries?limit=5"])
        adminAnswers.push((await hookbus.api("GET", path)).status);
  })();
  let acknowledgedDuringMove = 0;
  const before = publisher.acknowledged.length;
  await withNode(from, async (source) => {
    const keysInSlot = async () => Number(await source.call("CLUSTER", "COUNTKEYSINSLOT", slot));
    const total = await keysInSlot();
    let paused = false;
    await moveSlot(cluster.masters, slot, to, async () => {
      acknowledgedDuringMove = publisher.acknowledged.length - before;
      // A slot with many keys takes a while to move: this one stays split in halves for 3 s,
      // longer than a command's redirections last, so work whose keys are on both sides
      // (most scripts, and reads of several keys) is answered TRYAGAIN throughout.
      if (!paused && (await keysInSlot()) <= total / 2) {
        paused = true;
        await new Promise((resolve) => setTimeout(resolve, 3_000));
      }
    });
    expect(paused).toBe(true);
  });
  moving = false;
  await operator;
  await waitFor(() => publisher.acknowledged.length >= before + acknowledgedDuringMove + 20, "publishes after the move");
  const acknowledged = await publisher.stop();

  expect(await masterServing(cluster.masters, slot)).toBe(to);
  expect(acknowledgedDuringMove).toBeGreaterThan(0);
  expect(adminAnswers.length).toBeGreaterThan(0);
  expect(adminAnswers.filter((status) => status !== 200 && status !== 503)).toEqual([]);
  await waitFor(
    () => acknowledged.every((name) => deliveredNames(endpoint.requests.map((r) => r.body)).has(name)),
    `all ${acknowledged.length} acknowledged events delivered`,
    30_000,
  );
  // Each once, and recorded: an attempt whose record Redis refused during the move is recorded
  // when it can be, not left pending to be sent again once its lease lapses.
  for (const status of ["pending", "retrying"])
    await waitFor(
      async () => (await hookbus.api("GET", `/v1/deliveries?status=${status}&limit=1`)).body.items.length === 0,
      `no delivery ${status}`,
      30_000,
    );
  const webhookIds = endpoint.requests.map((r) => r.headers["webhook-id"]);
  expect(new Set(webhookIds).size).toBe(webhookIds.length);
});
