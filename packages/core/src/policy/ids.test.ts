import { idLowerBound, idTime, newId } from "./ids.js";

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
