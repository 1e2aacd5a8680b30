import { changedFields } from "./changed-fields.js";

test("only the fields that changed are kept, each with its old and new value as shown", () => {
  const stored = {
    before: { url: "https://a.example", eventTypes: ["x"], timeoutMs: 5 },
    after: { url: "https://b.example", eventTypes: ["x"], timeoutMs: 5 },
  };
  const shown = { before: { ...stored.before, updatedAt: "t1" }, after: { ...stored.after, updatedAt: "t2", description: "new" } };
  expect(changedFields(stored, shown)).toEqual({
    before: { url: "https://a.example", description: null },
    after: { url: "https://b.example", description: "new" },
  });
});

test("a change that masking hides (a header's value) still shows as changed, masked on both sides", () => {
  const stored = { before: { headers: { "x-token": "old" } }, after: { headers: { "x-token": "new" } } };
  const shown = { before: { headers: { "x-token": "********" } }, after: { headers: { "x-token": "********" } } };
  expect(changedFields(stored, shown)).toEqual(shown);
});
