import { createHmac } from "node:crypto";
import type { EncryptionKey, SecretBox } from "./secret-box.js";

const PURPOSE = "hookbus participant value hash v1";

/** A value's keyed hash under one key: `KEYID:` and the base64url HMAC-SHA-256. */
export interface ValueHash {
  keyId: string;
  digest: string;
}

/**
 * Keyed hashes of participant values (HMAC-SHA-256 with a key derived from
 * HOOKBUS_ENCRYPTION_KEY): what names a participant's index entry and what an erasure's audit
 * entry records, so that neither holds the value. Keyed rather than a plain SHA-256: ids such as
 * `PT-0042` are few enough to be found from a plain hash by trying them all. After a key
 * rotation a value is found under every key still held.
 */
export class ParticipantHasher {
  private readonly keys: EncryptionKey[];

  constructor(box: SecretBox) {
    this.keys = box.derivedKeys(PURPOSE);
  }

  /** The hash under the sealing key: what new records are written with. */
  hash(value: string): ValueHash {
    return hashWith(this.keys[0]!, value);
  }

  /** The hash under every key held, the sealing key's first: where records written before a rotation are found. */
  hashesUnderEveryKey(value: string): ValueHash[] {
    return this.keys.map((key) => hashWith(key, value));
  }
}

function hashWith({ id, key }: EncryptionKey, value: string): ValueHash {
  return { keyId: id, digest: createHmac("sha256", key).update(value, "utf8").digest("base64url") };
}

/** How a hash is written where a single string is wanted (an audit entry's field). */
export function formatValueHash({ keyId, digest }: ValueHash): string {
  return `hmac-sha256:${keyId}:${digest}`;
}
