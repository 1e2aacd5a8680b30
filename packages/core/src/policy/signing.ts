import { createHmac, randomBytes } from "node:crypto";
import type { SigningSecret } from "./domain.js";

const SECRET_PREFIX = "whsec_";

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
}

/**
 * The `webhook-signature` header of the Standard Webhooks spec: `v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">` for each secret, space-separated. Written here rather than taken
 * from the `standardwebhooks` package because that signs with one secret only, and the
 * rotation overlap needs every live secret in one header; the package verifies it in tests.
 */
export function signatureHeader(secrets: string[], webhookId: string, timestampSeconds: number, body: string): string {
  const signed = `${webhookId}.${timestampSeconds}.${body}`;
  return secrets.map((secret) => `v1,${createHmac("sha256", secretKey(secret)).update(signed).digest("base64")}`).join(" ");
}

/** The secrets that sign now: the current one and rotated ones still in their overlap. */
export function activeSecrets(secrets: SigningSecret[], now: number = Date.now()): string[] {
  return secrets.filter((s) => s.expiresAt === undefined || s.expiresAt > now).map((s) => s.secret);
}
