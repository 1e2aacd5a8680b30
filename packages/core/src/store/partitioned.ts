import type { RedisConnection } from "./redis.js";
import { partitionOfId } from "../policy/ids.js";

/**
 * Runs `read` once for each partition the ids name, all at once, and gives each id's result
 * back in the ids' order. A pipeline's commands must all be in slots of one Redis Cluster node:
 * a partition's keys share a slot.
 */
export function perPartition<T>(ids: string[], read: (ids: string[], partition: number) => Promise<T[]>): Promise<T[]> {
  return perPartitionOf(ids, (id) => id, read);
}

/** Runs `write` once for each partition the ids name, all at once: per-partition writes with no result to read. */
export async function eachPartition(ids: string[], write: (ids: string[], partition: number) => Promise<unknown>): Promise<void> {
  await perPartition(ids, async (own, partition) => {
    await write(own, partition);
    return own;
  });
}

/** The same for items that each belong to the partition of an id (`idOf`). */
export async function perPartitionOf<Item, T>(
  items: Item[],
  idOf: (item: Item) => string,
  read: (items: Item[], partition: number) => Promise<T[]>,
): Promise<T[]> {
  const groups = new Map<number, number[]>();
  items.forEach((item, i) => {
    const partition = partitionOfId(idOf(item));
    const group = groups.get(partition);
    if (group) group.push(i);
    else groups.set(partition, [i]);
  });
  const results = new Array<T>(items.length);
  await Promise.all(
    [...groups].map(async ([partition, indexes]) => {
      const partial = await read(
        indexes.map((i) => items[i]!),
        partition,
      );
      indexes.forEach((i, j) => (results[i] = partial[j]!));
    }),
  );
  return results;
}

/** A lexicographic range of an index, as ZRANGE BYLEX takes it: from `low` to `high`, newest first when `reverse`. */
export interface LexRange {
  low: string;
  high: string;
  reverse: boolean;
}

/**
 * The first `limit` members of a lexicographic range of an index every partition keeps, read
 * from each and merged: members are ids, which sort by creation time across partitions alike.
 */
export async function rangeOfEvery(
  redis: RedisConnection,
  partitions: number[],
  indexOf: (partition: number) => string,
  { low, high, reverse }: LexRange,
  limit: number,
): Promise<string[]> {
  const each = await Promise.all(
    partitions.map((partition) =>
      reverse
        ? redis.zrange(indexOf(partition), high, low, "BYLEX", "REV", "LIMIT", 0, limit)
        : redis.zrange(indexOf(partition), low, high, "BYLEX", "LIMIT", 0, limit),
    ),
  );
  if (each.length === 1) return each[0]!;
  const merged = each.flat().sort();
  if (reverse) merged.reverse();
  return merged.slice(0, limit);
}
