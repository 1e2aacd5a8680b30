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

/** A prefixed id whose sortable part starts with its creation time: `dlv_01J…`. */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  return `${prefix}_${nextUlid(now)}`;
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
