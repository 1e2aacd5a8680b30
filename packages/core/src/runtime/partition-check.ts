import type { RedisConnection } from "../store/redis.js";
import type { Keys } from "../store/keys.js";
import { notePartitionCount } from "../store/partition-count.js";
import { ConfigError } from "./config.js";

/**
 * What both apps do at start: note how many partitions events are stored in, and refuse to
 * start with fewer. The count may be raised (new events spread further; the earlier ones are
 * read where they are), never lowered: events in the partitions left out would be read by no one.
 */
export async function checkPartitions(redis: RedisConnection, keys: Keys): Promise<void> {
  const held = await notePartitionCount(redis, keys);
  if (held > 0)
    throw new ConfigError(
      `invalid environment:\n  HOOKBUS_PARTITIONS: ${keys.partitionCount}, but this Redis holds events in ${held} partitions: it may be raised, never lowered`,
    );
}
