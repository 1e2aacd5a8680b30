import calculateSlot from "cluster-key-slot";

/** The most partitions Hookbus spreads over (HOOKBUS_PARTITIONS). */
export const MAX_PARTITIONS = 64;

const CLUSTER_SLOTS = 16_384;
/** How close to its target slot a partition's tag must hash: 1/128 of the slots. */
const SLOT_WINDOW = CLUSTER_SLOTS / 128;

/**
 * The key prefix of each of `count` partitions. Partition 0's is `prefix` itself, where
 * everything lived before partitions, so what an earlier version stored is partition 0's. The
 * others get a hash tag of their own, chosen so that their Redis Cluster slots spread evenly
 * from partition 0's: partition k aims at the point the bit-reversed k marks around the slot
 * ring (1/2, 1/4, 3/4, 1/8...), so that however many there are, and however the slots are
 * shared among masters, they sit about evenly apart. Tags named by number alone can hash to
 * neighbouring slots, and so to one master (`{hookbus:2}` and `{hookbus:3}` do).
 */
export function partitionPrefixes(prefix: string, count: number): string[] {
  const firstSlot = calculateSlot(prefix);
  const prefixes = [prefix];
  for (let k = 1; k < count; k++) {
    const target = (firstSlot + Math.round(bitReversedFraction(k) * CLUSTER_SLOTS)) % CLUSTER_SLOTS;
    for (let variant = 0; ; variant++) {
      const tagged = prefixTagged(prefix, `${k}.${variant}`);
      const distance = Math.abs(calculateSlot(tagged) - target);
      if (Math.min(distance, CLUSTER_SLOTS - distance) <= SLOT_WINDOW / 2) {
        prefixes.push(tagged);
        break;
      }
    }
  }
  return prefixes;
}

/**
 * The prefix with its `{hash tag}` (or, without one, the whole prefix as a tag) extended by
 * `suffix`: a tag of its own, in a slot of its own, that still reads as the prefix's.
 */
export function prefixTagged(prefix: string, suffix: string): string {
  const open = prefix.indexOf("{");
  const close = prefix.indexOf("}", open + 1);
  if (open < 0 || close <= open + 1) return `{${prefix}:${suffix}}`;
  return `${prefix.slice(0, open)}{${prefix.slice(open + 1, close)}:${suffix}}${prefix.slice(close + 1)}`;
}

/** k's binary digits mirrored behind the point: 1 -> 1/2, 2 -> 1/4, 3 -> 3/4, 4 -> 1/8. */
function bitReversedFraction(k: number): number {
  let fraction = 0;
  for (let weight = 0.5; k > 0; k >>= 1, weight /= 2) if (k & 1) fraction += weight;
  return fraction;
}

/**
 * The partition a string key (an ordering key, an idempotency key) belongs to among `count`:
 * FNV-1a, cheap and even enough for spreading, and the same in every process.
 */
export function partitionOfKey(key: string, count: number): number {
  if (count <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/** How long the partitions' grouping by master is kept before it is made again from the cluster's slot map. */
const REGROUP_MS = 10_000;

/**
 * The partitions of the moment: where the events free to go anywhere (no ordering key, no
 * idempotency key) made in one turn of the event loop are stored, one partition on each
 * master, each master's partitions taken in turn from one moment to the next. The events of a
 * moment are dealt over them: a batch's or a busy moment's events spread over every master at
 * once, and each master gets the same share, although N partitions' tags fall on the masters
 * only as evenly as N allows (16 on 3 masters: 6, 5 and 5, or 7, 5 and 4). Any partition is
 * right for these events, so following the slot map as it is now (slots move) is safe. On one
 * Redis, one partition a moment, the partitions in turn.
 */
export class MomentPartitions {
  private moment = -1;
  private groups: number[][] = [];
  private groupedAt = -Infinity;

  /**
   * @param prefixes each partition's key prefix (its hash tag)
   * @param masterOfSlot the master that serves a slot now; undefined on one Redis, or before the slot map is known
   */
  constructor(
    private readonly prefixes: string[],
    private readonly masterOfSlot: (slot: number) => string | undefined,
  ) {}

  /**
   * The next moment's partitions, one on each master, to be dealt in this order: the master
   * dealt first changes from one moment to the next, as most moments make only an event or two.
   */
  next(now = Date.now()): number[] {
    if (now - this.groupedAt >= REGROUP_MS) {
      this.groups = this.byMaster();
      this.groupedAt = now;
    }
    this.moment++;
    const masters = this.groups.length;
    return this.groups.map((_, i) => {
      const group = this.groups[(this.moment + i) % masters]!;
      return group[Math.floor(this.moment / masters) % group.length]!;
    });
  }

  private byMaster(): number[][] {
    const groups = new Map<string, number[]>();
    this.prefixes.forEach((prefix, partition) => {
      const master = this.masterOfSlot(calculateSlot(prefix)) ?? "";
      groups.set(master, [...(groups.get(master) ?? []), partition]);
    });
    return [...groups.values()];
  }
}
