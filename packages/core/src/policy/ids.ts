import { randomFillSync } from "node:crypto";
import { monotonicFactory, decodeTime } from "ulid";

export type IdPrefix = "evt" | "sub" | "dlv" | "rpl" | "lsn" | "prj" | "key" | "aud" | "era" | "sch";

/**
 * Random numbers in [0, 1) for ulid, drawn from a pool of crypto-random bytes. ulid's own
 * source asks the OS for one byte per character, sixteen calls an id: profiled, that was a
 * few percent of the ingest's and the worker's CPU.
 */
const randomPool = Buffer.alloc(4096);
let poolOffset = randomPool.length;
function pooledRandom(): number {
  if (poolOffset === randomPool.length) {
    randomFillSync(randomPool);
    poolOffset = 0;
  }
  return randomPool[poolOffset++]! / 256;
}

// Monotonic: ids made in the same millisecond by this process still sort in creation order,
// which the delivery log's cursors rely on.
const nextUlid = monotonicFactory(pooledRandom);

/**
 * A prefixed id whose sortable part starts with its creation time: `dlv_01J…`. An event's or
 * delivery's id in a partition other than 0 says which (see partitionOfId).
 */
export function newId(prefix: IdPrefix, now: number = Date.now(), partition = 0): string {
  const ulid = nextUlid(now);
  if (partition === 0) return `${prefix}_${ulid}`;
  // The first three characters after the time: the mark, then the partition. The rest, where a
  // monotonic ulid counts up within a millisecond, is left as it is, so ids stay unique.
  return `${prefix}_${ulid.slice(0, TIME_CHARS)}${PARTITION_MARK}${encodePartition(partition)}${ulid.slice(TIME_CHARS + 3)}`;
}

/** Characters of a ulid that hold its time. */
const TIME_CHARS = 10;
/**
 * Marks an id that names its partition. Crockford's base 32, which ulids are written in, has
 * no U: no id made before partitions (all of them partition 0's) carries it.
 */
const PARTITION_MARK = "U";

/** The partition an id made by newId belongs to: 0 for one that names none. */
export function partitionOfId(id: string): number {
  const at = id.indexOf("_") + 1 + TIME_CHARS;
  if (id[at] !== PARTITION_MARK) return 0;
  return CROCKFORD.indexOf(id[at + 1]!) * 32 + CROCKFORD.indexOf(id[at + 2]!);
}

function encodePartition(partition: number): string {
  return CROCKFORD[Math.floor(partition / 32)]! + CROCKFORD[partition % 32]!;
}

/** The creation time (ms) encoded in an id made by newId. */
export function idTime(id: string): number {
  return decodeTime(id.slice(id.indexOf("_") + 1));
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * The smallest id of that prefix made at `time` (ms): ids compare as strings in time order,
 * so a time range becomes a lexicographic range in the delivery log's indexes.
 */
export function idLowerBound(prefix: IdPrefix, time: number): string {
  let t = Math.max(0, Math.floor(time));
  let encoded = "";
  for (let i = 0; i < 10; i++) {
    encoded = CROCKFORD[t % 32] + encoded;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${encoded}`;
}
