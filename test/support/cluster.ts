import { Redis } from "ioredis";

/** A node of a test cluster: where it listens. */
export interface ClusterNode {
  url: string;
  port: number;
}

/** The slot of a key prefix's `{hash tag}`, where every key Hookbus writes under it lives. */
export async function slotOf(node: ClusterNode, prefix: string): Promise<number> {
  return withNode(node, async (redis) => Number(await redis.call("CLUSTER", "KEYSLOT", prefix)));
}

/** The master among `masters` that serves `slot` now. */
export async function masterServing<Node extends ClusterNode>(masters: Node[], slot: number): Promise<Node> {
  const ownership = await Promise.all(masters.map((master) => withNode(master, (redis) => servesSlot(redis, slot))));
  const index = ownership.indexOf(true);
  if (index < 0) throw new Error(`no master serves slot ${slot}`);
  return masters[index]!;
}

/**
 * Moves one slot, with its keys, from the master serving it to `to`, the way
 * `redis-cli --cluster reshard` does: mark it importing and migrating, MIGRATE its keys in
 * batches (clients meanwhile get ASK, or TRYAGAIN for a script whose keys are split), then
 * give it to `to` on every master. `onBatch` runs after each batch of keys moved.
 */
export async function moveSlot(
  masters: ClusterNode[],
  slot: number,
  to: ClusterNode,
  onBatch: () => Promise<void> = async () => {},
): Promise<void> {
  const from = await masterServing(masters, slot);
  if (from === to) throw new Error("the slot is already there");
  const source = new Redis(from.url);
  const target = new Redis(to.url);
  try {
    const sourceId = String(await source.call("CLUSTER", "MYID"));
    const targetId = String(await target.call("CLUSTER", "MYID"));
    await target.call("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId);
    await source.call("CLUSTER", "SETSLOT", slot, "MIGRATING", targetId);
    for (;;) {
      const keys = (await source.call("CLUSTER", "GETKEYSINSLOT", slot, 20)) as string[];
      if (keys.length === 0) break;
      await source.call("MIGRATE", "127.0.0.1", to.port, "", 0, 5000, "KEYS", ...keys);
      await onBatch();
    }
    for (const master of [to, from, ...masters.filter((m) => m !== to && m !== from)]) {
      await withNode(master, (redis) => redis.call("CLUSTER", "SETSLOT", slot, "NODE", targetId));
    }
  } finally {
    await Promise.all([source.quit(), target.quit()]);
  }
}

async function servesSlot(redis: Redis, slot: number): Promise<boolean> {
  const ranges = (await redis.call("CLUSTER", "SLOTS")) as [number, number, [string, number, string]][];
  const myId = String(await redis.call("CLUSTER", "MYID"));
  return ranges.some(([start, end, [, , id]]) => slot >= start && slot <= end && id === myId);
}

/** Runs `use` on a connection of its own to one node, closed after. */
export async function withNode<T>(node: ClusterNode, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(node.url);
  try {
    return await use(redis);
  } finally {
    await redis.quit();
  }
}
