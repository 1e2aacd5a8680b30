import { idLowerBound, idTime, newId, partitionOfId } from "./ids.js";

test("ids carry their prefix and creation time, and sort in creation order", () => {
  const ids = Array.from({ length: 1000 }, () => newId("dlv", 1_700_000_000_000));
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(1000);
  expect(ids[0]).toMatch(/^dlv_[0-9A-HJKMNP-TV-Z]{26}$/);
  expect(idTime(ids[0]!)).toBe(1_700_000_000_000);
});

test("a time's lower bound sorts before every id made at or after it and after every id made before", () => {
  const bound = idLowerBound("dlv", 1_700_000_000_500);
  expect(newId("dlv", 1_700_000_000_499) < bound).toBe(true);
  expect(newId("dlv", 1_700_000_000_500) >= bound).toBe(true);
  expect(newId("dlv", 1_700_000_000_501) > bound).toBe(true);
});

test("an id made in a partition names it, keeps its time and its order among the partition's ids; an id without one is partition 0's", () => {
  const ids = Array.from({ length: 1000 }, () => newId("evt", 1_800_000_000_000, 37));
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(1000);
  expect(ids[0]).toMatch(/^evt_[0-9A-Z]{26}$/);
  expect(ids.every((id) => partitionOfId(id) === 37)).toBe(true);
  expect(idTime(ids[0]!)).toBe(1_800_000_000_000);
  // Ids an earlier version made (plain ulids), and partition 0's, name none.
  expect(partitionOfId("dlv_01M881QN0JYS8BDKMBBAYD0C53")).toBe(0);
  expect(partitionOfId(newId("dlv", 1_700_000_000_000, 0))).toBe(0);
  for (const partition of [1, 15, 31, 32, 63]) expect(partitionOfId(newId("dlv", Date.now(), partition))).toBe(partition);
  // A job id made of a delivery id names its partition too.
  expect(partitionOfId(`${newId("dlv", Date.now(), 9)}-r2`)).toBe(9);
});
