import type { ErasureReceipt } from "./erasure.js";
import { erasureAuditRecord } from "./erasure-audit.js";

const receipt: ErasureReceipt = {
  id: "era_1",
  status: "done",
  field: "participantIdentifier",
  createdAt: 1,
  finishedAt: 2,
  total: 3,
  events: 3,
  deliveries: 4,
  attempts: 7,
  persistence: { status: "rewritten", finishedAt: 2 },
};

test("an erasure's finishing entry holds its counts and the keyed hash it was given, and nothing else of the participant", () => {
  const record = erasureAuditRecord("erasure.finish", receipt, "hmac-sha256:k1:abc");
  expect(record).toMatchObject({ action: "erasure.finish", resourceType: "erasure", resourceId: "era_1" });
  expect(record.after).toEqual({
    field: "participantIdentifier",
    status: "done",
    counts: { total: 3, events: 3, deliveries: 4, attempts: 7 },
    valueHash: "hmac-sha256:k1:abc",
    persistence: "rewritten",
  });
});

test("an erasure's starting entry says what was asked, with no hash", () => {
  const record = erasureAuditRecord("erasure.create", { ...receipt, status: "running", events: 0, deliveries: 0, attempts: 0 });
  expect(record.after).toEqual({
    field: "participantIdentifier",
    status: "running",
    counts: { total: 3, events: 0, deliveries: 0, attempts: 0 },
  });
});
