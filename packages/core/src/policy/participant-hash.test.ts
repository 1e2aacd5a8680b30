import { createHmac } from "node:crypto";
import { formatValueHash, ParticipantHasher } from "./participant-hash.js";
import { participantValues } from "./participant-values.js";
import { newEncryptionKey, SecretBox } from "./secret-box.js";

test("a value's keyed hash is stable under one key, differs under another, and shows nothing of the value", () => {
  const key = newEncryptionKey();
  const hasher = new ParticipantHasher(SecretBox.parse(`k1:${key}`));
  const hash = hasher.hash("PT-0042");
  expect(hash).toEqual(new ParticipantHasher(SecretBox.parse(`k1:${key}`)).hash("PT-0042"));
  expect(hash.digest).not.toEqual(hasher.hash("PT-0043").digest);
  expect(hash.digest).not.toEqual(new ParticipantHasher(SecretBox.parse(`k1:${newEncryptionKey()}`)).hash("PT-0042").digest);
  expect(formatValueHash(hash)).toMatch(/^hmac-sha256:k1:[\w-]{43}$/);
  expect(formatValueHash(hash)).not.toContain("0042");
});

test("the hash is keyed by a key derived from the encryption key, not the encryption key itself nor none", () => {
  const key = newEncryptionKey();
  const { digest } = new ParticipantHasher(SecretBox.parse(`k1:${key}`)).hash("PT-0042");
  expect(digest).not.toEqual(createHmac("sha256", Buffer.from(key, "base64")).update("PT-0042").digest("base64url"));
  expect(digest).not.toEqual(createHmac("sha256", "").update("PT-0042").digest("base64url"));
});

test("after a rotation, new hashes are made under the sealing key and a value is looked for under every key held", () => {
  const [oldKey, newKey] = [newEncryptionKey(), newEncryptionKey()];
  const before = new ParticipantHasher(SecretBox.parse(`k1:${oldKey}`));
  const during = new ParticipantHasher(SecretBox.parse(`k1:${oldKey},k2:${newKey}`, "k2"));
  expect(during.hash("PT-0042").keyId).toBe("k2");
  expect(during.hashesUnderEveryKey("PT-0042").map((h) => h.keyId)).toEqual(["k2", "k1"]);
  expect(during.hashesUnderEveryKey("PT-0042")).toContainEqual(before.hash("PT-0042"));
});

test("an event's participant values are its MyDataHelps participant id and identifier, and its TrialKit trans_id", () => {
  expect(participantValues({ participantId: "p-1", participantIdentifier: "PT-1", surveyName: "Daily" })).toEqual([
    { field: "participantId", value: "p-1" },
    { field: "participantIdentifier", value: "PT-1" },
  ]);
  expect(participantValues({ transId: "435", formId: "319" })).toEqual([{ field: "transId", value: "435" }]);
  expect(participantValues({ subscriptionId: "sub_1", url: "https://x" })).toEqual([]);
});
