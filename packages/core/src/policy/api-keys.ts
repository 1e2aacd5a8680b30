import { createHash, randomBytes } from "node:crypto";

/** What every key made through the API starts with, so that secret scanners can spot a leaked one. */
export const API_KEY_PREFIX = "hbk_";

/** A new API key: the prefix and 32 random bytes, base64url. */
export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString("base64url");
}

/**
 * The form keys are stored and looked up in: SHA-256, hex. A fast hash is right here, unlike for
 * passwords: a key is 256 random bits, so no guess list or brute force can find one from its
 * hash however fast the hash is, and a slow hash would only cost every request its time.
 */
export function apiKeyDigest(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * The stable id of a key of HOOKBUS_API_KEYS, as audit entries name it: `opk_` and the first 8
 * bytes of its SHA-256. It tells the keys apart and survives restarts, and no key can be found
 * from it (it is a fraction of a hash of 128+ random bits).
 */
export function operatorKeyId(key: string): string {
  return "opk_" + apiKeyDigest(key).slice(0, 16);
}
