import { newEncryptionKey, SecretBox } from "../policy/secret-box.js";
import { erasureAuditRecord } from "./erasure-audit.js";

const encryption = SecretBox.parse(`k1:${newEncryptionKey()}`);
const erasure = {
  erasureId: "ers_1",
  field: "participantIdentifier" as const,
  value: "PT-0042",
  counts: { events: 3, deliveries: 4, attempts: 7 },
};

test("an erasure's entry holds its counts and a keyed hash of the value, never the value", () => {
  const record = erasureAuditRecord(erasure, encryption);
  expect(record).toMatchObject({ action: "erasure.create", resourceType: "erasure", resourceId: "ers_1" });
  expect(record.after).toEqual({
    field: "participantIdentifier",
    valueHash: { keyId: "k1", hmacSha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    counts: { events: 3, deliveries: 4, attempts: 7 },
  });
  expect(JSON.stringify(record)).not.toContain("PT-0042");
});

test("the keyed hash is the same for the same value and key, and differs for another value or another key", () => {
  const hash = (value: string, box = encryption) =>
    (erasureAuditRecord({ ...erasure, value }, box).after!.valueHash as { hmacSha256: string }).hmacSha256;
  expect(hash("PT-0042")).toBe(hash("PT-0042"));
  expect(hash("PT-0043")).not.toBe(hash("PT-0042"));
  expect(hash("PT-0042", SecretBox.parse(`k2:${newEncryptionKey()}`))).not.toBe(hash("PT-0042"));
});
