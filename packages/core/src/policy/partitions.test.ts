import calculateSlot from "cluster-key-slot";
import { MomentPartitions, partitionOfKey, partitionPrefixes } from "./partitions.js";

/** How many of these slots each of `masters` equal shares of the slot ring holds, as `redis-cli --cluster create` shares them. */
function perMaster(slots: number[], masters: number): number[] {
  const counts = Array.from({ length: masters }, () => 0);
  for (const slot of slots) counts[Math.min(masters - 1, Math.floor((slot * masters) / 16_384))]!++;
  return counts;
}

test("partition 0 is the prefix itself; the others are tags of their own, one slot each, spread evenly round the slot ring", () => {
  const prefixes = partitionPrefixes("{hookbus}", 16);
  expect(prefixes[0]).toBe("{hookbus}");
  expect(prefixes).toHaveLength(16);
  const slots = prefixes.map((prefix) => calculateSlot(`${prefix}:evt:x`));
  expect(new Set(slots).size).toBe(16);
  // Wherever partition 0's slot falls, no master of 3, 4 or 5 holds more than its share and a partition.
  for (const masters of [3, 4, 5]) {
    const counts = perMaster(slots, masters);
    expect(Math.max(...counts)).toBeLessThanOrEqual(Math.ceil(16 / masters) + 1);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  }
  // Tags named by number alone would not be: two of them share a master of three here.
  expect(calculateSlot("{hookbus:2}")).not.toBe(calculateSlot("{hookbus:3}"));
  // The same in every process, and a prefix's first partitions are the same whatever their count.
  expect(partitionPrefixes("{hookbus}", 16)).toEqual(prefixes);
  expect(partitionPrefixes("{hookbus}", 4)).toEqual(prefixes.slice(0, 4));
  // Around the hash tag of any prefix, text before and after it kept.
  expect(partitionPrefixes("app:{hb}:x", 2)[1]).toMatch(/^app:\{hb:1\.\d+\}:x$/);
});

test("a key's partition is the same in every process and spreads keys about evenly", () => {
  expect(partitionOfKey("participant-7", 16)).toBe(partitionOfKey("participant-7", 16));
  expect(partitionOfKey("anything", 1)).toBe(0);
  const counts = Array.from({ length: 16 }, () => 0);
  for (let i = 0; i < 16_000; i++) counts[partitionOfKey(`key-${i}`, 16)]!++;
  expect(Math.min(...counts)).toBeGreaterThan(800);
  expect(Math.max(...counts)).toBeLessThan(1200);
});

test("the partitions of a moment are one on each master, dealt from each master in turn, and each master's partitions taken in turn", () => {
  const prefixes = partitionPrefixes("{hookbus}", 16);
  const masterOf = (slot: number) => Math.min(2, Math.floor((slot * 3) / 16_384));
  const masterOfPartition = (partition: number) => masterOf(calculateSlot(prefixes[partition]!));
  const partitionsOnEach = perMaster(
    prefixes.map((prefix) => calculateSlot(prefix)),
    3,
  );
  expect(Math.max(...partitionsOnEach)).toBeGreaterThan(Math.min(...partitionsOnEach));

  const moments = new MomentPartitions(prefixes, (slot) => `master-${masterOf(slot)}`);
  // 420 is a multiple of any master's count of partitions here (4 to 7).
  const momentCount = 3 * 420;
  const taken = new Map<number, number>();
  const dealtFirst = new Map<number, number>();
  const dealtFirstOnMaster = [0, 0, 0];
  for (let moment = 0; moment < momentCount; moment++) {
    const partitions = moments.next(0);
    expect(new Set(partitions.map(masterOfPartition)).size).toBe(3);
    for (const partition of partitions) taken.set(partition, (taken.get(partition) ?? 0) + 1);
    dealtFirst.set(partitions[0]!, (dealtFirst.get(partitions[0]!) ?? 0) + 1);
    dealtFirstOnMaster[masterOfPartition(partitions[0]!)]!++;
  }
  // Moments of a single event give each master the same share, and reach every partition.
  expect(dealtFirstOnMaster).toEqual([420, 420, 420]);
  expect(dealtFirst.size).toBe(16);
  // Each of a master's partitions is taken as often as the others of that master.
  for (const [partition, times] of taken) expect(times * partitionsOnEach[masterOfPartition(partition)]!).toBe(momentCount);

  // On one Redis (no slot map), one partition a moment, in turn.
  const alone = new MomentPartitions(prefixes.slice(0, 4), () => undefined);
  expect(Array.from({ length: 6 }, () => alone.next(0))).toEqual([[0], [1], [2], [3], [0], [1]]);
});
