import type { RedisConnection } from "./redis.js";
import type { Keys } from "./keys.js";
import { defineScript } from "./redis.js";

/** Raises the partition count noted in Redis to ARGV[1]; answers the noted count when it is higher, else 0. */
const NOTE_PARTITIONS =
  "local held = tonumber(redis.call('GET', KEYS[1]) or '1') local count = tonumber(ARGV[1]) " +
  "if count < held then return held end if count > held then redis.call('SET', KEYS[1], count) end return 0";

/**
 * Notes in Redis how many partitions this process stores events in, unless more were noted
 * before: then that count is returned (else 0). One partition, as before partitions, notes nothing.
 */
export async function notePartitionCount(redis: RedisConnection, keys: Keys): Promise<number> {
  const note = defineScript<number>(redis, "hookbusNotePartitions", 1, NOTE_PARTITIONS);
  return Number(await note.run([keys.partitionCountNote()], [keys.partitionCount]));
}
