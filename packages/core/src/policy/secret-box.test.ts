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

test("rotation: the first key seals, every listed key opens, a dropped key is named", () => {
  const [oldKey, newKey] = [newEncryptionKey(), newEncryptionKey()];
  const before = SecretBox.parse(`k1:${oldKey}`);
  const during = SecretBox.parse(`k2:${newKey},k1:${oldKey}`);
  const after = SecretBox.parse(`k2:${newKey}`);
  const sealedBefore = before.seal("s", "x");
  expect(during.open(sealedBefore, "x")).toBe("s");
  const sealedDuring = during.seal("s", "x");
  expect(sealedDuring.split(".")[1]).toBe("k2");
  expect(after.open(sealedDuring, "x")).toBe("s");
  expect(() => after.open(sealedBefore, "x")).toThrow(/key "k1"/);
});

test("a key without an id gets a stable one derived from it; bad keys and ids are refused", () => {
  const key = newEncryptionKey();
  expect(SecretBox.parse(key).seal("s", "x").split(".")[1]).toBe(SecretBox.parse(key).seal("s", "x").split(".")[1]);
  expect(() => SecretBox.parse(Buffer.alloc(31).toString("base64"))).toThrow(/32 bytes/);
  expect(() => SecretBox.parse(`bad id:${key}`)).toThrow(/key id/);
  expect(() => SecretBox.parse(" , ")).toThrow(/at least one/);
});
