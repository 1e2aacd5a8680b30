import { newEncryptionKey, SecretBox } from "./secret-box.js";

test("what is sealed opens with the same context, and shows nothing of the plaintext", () => {
  const box = SecretBox.parse(newEncryptionKey());
  const sealed = box.seal("whsec_top-secret", "sub_1");
  expect(sealed).not.toContain("top-secret");
  expect(sealed).not.toBe(box.seal("whsec_top-secret", "sub_1"));
  expect(box.open(sealed, "sub_1")).toBe("whsec_top-secret");
  expect(() => box.open(sealed, "sub_2")).toThrow();
});

test("an altered ciphertext or tag is refused", () => {
  const box = SecretBox.parse(newEncryptionKey());
  const [format, id, iv, tag, ciphertext] = box.seal("password", "sub_1").split(".");
  const flip = (text: string) =>
    Buffer.from(Buffer.from(text, "base64url").map((byte, i) => (i === 0 ? byte ^ 1 : byte))).toString("base64url");
  expect(() => box.open([format, id, iv, tag, flip(ciphertext!)].join("."), "sub_1")).toThrow();
  expect(() => box.open([format, id, iv, flip(tag!), ciphertext].join("."), "sub_1")).toThrow();
});

test("rotation in two phases: the new key opens before it seals, so a process on either setting reads everything", () => {
  const [oldKey, newKey] = [newEncryptionKey(), newEncryptionKey()];
  const before = SecretBox.parse(`k1:${oldKey}`);
  const learning = SecretBox.parse(`k1:${oldKey},k2:${newKey}`);
  const sealing = SecretBox.parse(`k1:${oldKey},k2:${newKey}`, "k2");
  const after = SecretBox.parse(`k2:${newKey}`);
  // Phase 1: processes that learnt k2 still seal with k1, which those not yet restarted open.
  expect(learning.sealingKeyId).toBe("k1");
  expect(before.open(learning.seal("s", "x"), "x")).toBe("s");
  // Phase 2: k2 seals; every process of phase 1 opens it, and what k1 sealed still opens.
  const sealedWithNew = sealing.seal("s", "x");
  expect(SecretBox.keyIdOf(sealedWithNew)).toBe("k2");
  expect(learning.open(sealedWithNew, "x")).toBe("s");
  expect(sealing.open(before.seal("s", "x"), "x")).toBe("s");
  // Dropped too soon, the old key is named.
  expect(after.open(sealedWithNew, "x")).toBe("s");
  expect(() => after.open(before.seal("s", "x"), "x")).toThrow(/key "k1"/);
});

test("without a sealing key named, the first key seals, as before the setting existed", () => {
  const [oldKey, newKey] = [newEncryptionKey(), newEncryptionKey()];
  expect(SecretBox.keyIdOf(SecretBox.parse(`k2:${newKey},k1:${oldKey}`).seal("s", "x"))).toBe("k2");
  expect(SecretBox.parse(`k2:${newKey},k1:${oldKey}`).withSealingKey("k1").sealingKeyId).toBe("k1");
  expect(() => SecretBox.parse(`k1:${oldKey}`, "k2")).toThrow(/sealing key "k2" is not among the keys \(k1\)/);
});

test("two keys under one id are refused: one would seal what the other cannot open", () => {
  const [oldKey, newKey] = [newEncryptionKey(), newEncryptionKey()];
  expect(() => SecretBox.parse(`k1:${newKey},k1:${oldKey}`)).toThrow(/key id "k1" is given twice/);
  expect(() => SecretBox.parse(`${newKey},${newKey}`)).toThrow(/given twice/);
});

test("a key of the right id but the wrong value is told apart from a missing one", () => {
  const sealed = SecretBox.parse(`k1:${newEncryptionKey()}`).seal("s", "x");
  expect(() => SecretBox.parse(`k1:${newEncryptionKey()}`).open(sealed, "x")).toThrow(/the key of that id here does not open it/);
});

test("a key without an id gets a stable one derived from it; bad keys and ids are refused", () => {
  const key = newEncryptionKey();
  expect(SecretBox.parse(key).seal("s", "x").split(".")[1]).toBe(SecretBox.parse(key).seal("s", "x").split(".")[1]);
  expect(() => SecretBox.parse(Buffer.alloc(31).toString("base64"))).toThrow(/32 bytes/);
  expect(() => SecretBox.parse(`bad id:${key}`)).toThrow(/key id/);
  expect(() => SecretBox.parse(" , ")).toThrow(/at least one/);
});

test("a key set without an id and then named in a rotation (k1:OLD,k2:NEW) still opens what it sealed under its fingerprint", () => {
  const [oldKey, newKey] = [newEncryptionKey(), newEncryptionKey()];
  const alone = SecretBox.parse(oldKey);
  const sealed = alone.seal("s", "x");
  const rotating = SecretBox.parse(`k1:${oldKey},k2:${newKey}`);
  expect(rotating.holds(alone.sealingKeyId)).toBe(true);
  expect(rotating.open(sealed, "x")).toBe("s");
  // Another key's fingerprint opens nothing.
  expect(SecretBox.parse(`k2:${newKey}`).holds(alone.sealingKeyId)).toBe(false);
  expect(() => SecretBox.parse(`k2:${newKey}`).open(sealed, "x")).toThrow(/does not hold/);
});
