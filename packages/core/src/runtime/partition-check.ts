import type { RedisConnection } from "../store/redis.js";
import type { Keys } from "../store/keys.js";
import { ConfigError } from "./config.js";

/** Raises the partition count noted in Redis to this process's; answers the noted count when it is higher. */
const NOTE_PARTITIONS =
  "local held = tonumber(redis.call('GET', KEYS[1]) or '1') local count = tonumber(ARGV[1]) " +
  "if count < held then return held end if count > held then redis.call('SET', KEYS[1], count) end return 0";

/**
 * What both apps do at start: note how many partitions events are stored in, and refuse to
 * start with fewer. The count may be raised (new events spread further; the earlier ones are
 * read where they are), never lowered: events in the partitions left out would be read by no
 * one. One Redis at one partition, as before partitions, notes nothing.
 */
export async function checkPartitions(redis: RedisConnection, keys: Keys): Promise<void> {
  const held = Number(await redis.eval(NOTE_PARTITIONS, 1, keys.partitionCountNote(), keys.partitionCount));
  if (held > 0)
    throw new ConfigError(
      `invalid environment:\n  HOOKBUS_PARTITIONS: ${keys.partitionCount}, but this Redis holds events in ${held} partitions: it may be raised, never lowered`,
    );
}
