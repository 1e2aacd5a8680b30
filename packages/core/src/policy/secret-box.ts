import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

const ALGORITHM = "aes-256-gcm";
const IV_BYTES = 12;
const KEY_BYTES = 32;
const FORMAT = "v1";

export interface EncryptionKey {
  /** Stored beside each ciphertext, so that the right key opens it after a rotation. */
  id: string;
  key: Buffer;
}

/** What was sealed cannot be opened here: the key is not held, or the text was not sealed with the key of that id. */
export class UnopenableError extends Error {
  override name = "UnopenableError";
}

/**
 * AES-256-GCM for what Hookbus keeps at rest but must read back (signing secrets, receiver
 * passwords, header values). One key seals (the sealing key); every key opens. A key is
 * rotated in two phases, so that no process meets a key it does not hold while processes run
 * on both settings during a rolling deploy: first every process learns the new key while the
 * old one still seals, then the new one seals; once everything was sealed again (reseal),
 * the old key is dropped.
 * Sealed text: `v1.KEYID.IV.TAG.CIPHERTEXT`, the last three base64url.
 */
export class SecretBox {
  private readonly byId = new Map<string, Buffer>();
  /**
   * Each key also by the id a key given without one gets (its fingerprint): what a default
   * install sealed opens once its key is given a name, as rotation's first step does
   * (`k1:OLD,k2:NEW` where OLD was set alone).
   */
  private readonly byFingerprint = new Map<string, Buffer>();
  private readonly sealing: EncryptionKey;

  /** @param sealingKeyId the key that seals; the first one when left out */
  constructor(
    private readonly keys: readonly EncryptionKey[],
    sealingKeyId?: string,
  ) {
    if (keys.length === 0) throw new Error("at least one encryption key is needed");
    for (const { id, key } of keys) {
      // Two keys under one id would seal with one and open with the other: every write after
      // that would be unreadable although it answered 201.
      if (this.byId.has(id)) throw new Error(`key id "${id}" is given twice: give each key an id of its own`);
      this.byId.set(id, key);
      this.byFingerprint.set(fingerprint(key), key);
    }
    const sealing = keys.find((k) => k.id === (sealingKeyId ?? keys[0]!.id));
    if (!sealing) throw new Error(`the sealing key "${sealingKeyId}" is not among the keys (${this.keyIds.join(", ")})`);
    this.sealing = sealing;
  }

  /**
   * Parses HOOKBUS_ENCRYPTION_KEY: `KEY` or `ID:KEY,ID:KEY,…`, each KEY the base64 of 32
   * bytes. A key given without an id gets one derived from the key itself.
   */
  static parse(value: string, sealingKeyId?: string): SecretBox {
    const keys = value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((entry): EncryptionKey => {
        const [id, encoded] = entry.includes(":") ? entry.split(":", 2) : [undefined, entry];
        const key = Buffer.from(encoded ?? "", "base64");
        if (key.length !== KEY_BYTES) throw new Error(`each key must be the base64 of ${KEY_BYTES} bytes (openssl rand -base64 32)`);
        if (id !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`key id "${id}" must be 1-32 letters, digits, _ or -`);
        return { id: id ?? fingerprint(key), key };
      });
    return new SecretBox(keys, sealingKeyId);
  }

  /** The same keys, with the key of this id sealing. */
  withSealingKey(id: string): SecretBox {
    return new SecretBox(this.keys, id);
  }

  /** The id of the key that seals. */
  get sealingKeyId(): string {
    return this.sealing.id;
  }

  /** The ids of every key held, the sealing one among them. */
  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  /** Whether what was sealed under this key id opens here: a key held under that id, or one whose fingerprint it is. */
  holds(id: string): boolean {
    return this.keyFor(id) !== undefined;
  }

  private keyFor(id: string): Buffer | undefined {
    return this.byId.get(id) ?? this.byFingerprint.get(id);
  }

  /**
   * A key for another purpose derived from each key held (HKDF-SHA-256 with `purpose` as its
   * info), under the same ids, the sealing key's first: what keyed hashes are made with, so
   * that no second secret has to be configured and kept.
   */
  derivedKeys(purpose: string): EncryptionKey[] {
    const derive = ({ id, key }: EncryptionKey): EncryptionKey => ({
      id,
      key: Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), purpose, KEY_BYTES)),
    });
    return [this.sealing, ...this.keys.filter((k) => k.id !== this.sealing.id)].map(derive);
  }

  /** The id of the key that sealed `sealed`, read without opening it; undefined for text `seal` did not make. */
  static keyIdOf(sealed: string): string | undefined {
    const [format, id] = sealed.split(".");
    return format === FORMAT ? id : undefined;
  }

  /** Encrypts `plaintext`, bound to `context` (e.g. the record's id): opening needs the same context. */
  seal(plaintext: string, context: string): string {
    const { id, key } = this.sealing;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv).setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [FORMAT, id, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(".");
  }

  /** Decrypts what `seal` made; throws UnopenableError when the key is not held or the text or context was altered. */
  open(sealed: string, context: string): string {
    const [format, id, iv, tag, ciphertext] = sealed.split(".");
    const key = this.keyFor(id ?? "");
    if (format !== FORMAT || iv === undefined || tag === undefined || ciphertext === undefined)
      throw new UnopenableError("not a sealed value");
    if (!key) throw new UnopenableError(`sealed with key "${id}", which HOOKBUS_ENCRYPTION_KEY does not hold`);
    try {
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, "base64url"))
        .setAAD(Buffer.from(context))
        .setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new UnopenableError(
        `sealed with key "${id}", but the key of that id here does not open it (altered, or another key under the same id)`,
      );
    }
  }
}

/** The id of a key given without one: the first 8 hex digits of its SHA-256. */
function fingerprint(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

/** A new key in the form HOOKBUS_ENCRYPTION_KEY takes. */
export function newEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString("base64");
}
