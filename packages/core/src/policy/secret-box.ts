import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const ALGORITHM = "aes-256-gcm";
const IV_BYTES = 12;
const KEY_BYTES = 32;
const FORMAT = "v1";

export interface EncryptionKey {
  /** Stored beside each ciphertext, so that the right key opens it after a rotation. */
  id: string;
  key: Buffer;
}

/**
 * AES-256-GCM for what Hookbus keeps at rest but must read back (signing secrets, receiver
 * passwords, header values). The first key seals; every key opens, so a key is rotated by
 * putting the new one first and dropping the old one once everything was written again.
 * Sealed text: `v1.KEYID.IV.TAG.CIPHERTEXT`, the last three base64url.
 */
export class SecretBox {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new Error("at least one encryption key is needed");
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /**
   * Parses HOOKBUS_ENCRYPTION_KEY: `KEY` or `ID:KEY,ID:KEY,…`, each KEY the base64 of 32
   * bytes. A key given without an id gets one derived from the key itself.
   */
  static parse(value: string): SecretBox {
    const keys = value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((entry): EncryptionKey => {
        const [id, encoded] = entry.includes(":") ? entry.split(":", 2) : [undefined, entry];
        const key = Buffer.from(encoded ?? "", "base64");
        if (key.length !== KEY_BYTES) throw new Error(`each key must be the base64 of ${KEY_BYTES} bytes (openssl rand -base64 32)`);
        if (id !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`key id "${id}" must be 1-32 letters, digits, _ or -`);
        return { id: id ?? createHash("sha256").update(key).digest("hex").slice(0, 8), key };
      });
    return new SecretBox(keys);
  }

  /** Encrypts `plaintext`, bound to `context` (e.g. the record's id): opening needs the same context. */
  seal(plaintext: string, context: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv).setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [FORMAT, id, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(".");
  }

  /** Decrypts what `seal` made; throws when the key is unknown or the text or context was altered. */
  open(sealed: string, context: string): string {
    const [format, id, iv, tag, ciphertext] = sealed.split(".");
    const key = this.byId.get(id ?? "");
    if (format !== FORMAT || iv === undefined || tag === undefined || ciphertext === undefined) throw new Error("not a sealed value");
    if (!key) throw new Error(`sealed with key "${id}", which HOOKBUS_ENCRYPTION_KEY no longer holds`);
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, "base64url"))
      .setAAD(Buffer.from(context))
      .setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  }
}

/** A new key in the form HOOKBUS_ENCRYPTION_KEY takes. */
export function newEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString("base64");
}
