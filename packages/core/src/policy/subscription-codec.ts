import type { Subscription } from "./domain.js";
import type { SecretBox } from "./secret-box.js";

/** The parts of a subscription kept encrypted at rest. */
interface SealedParts {
  /** Its query string may hold the receiver's token. */
  url?: string;
  secrets: Subscription["secrets"];
  password?: string;
  headers?: Record<string, string>;
}

/** A subscription as stored: the secret parts in one ciphertext, bound to the subscription's id. */
type StoredSubscription = Omit<Subscription, "url" | "secrets" | "headers" | "auth"> & {
  /** Only in subscriptions stored before the URL was sealed. */
  url?: string;
  auth?: { type: "basic"; username: string };
  sealed: string;
};

/**
 * The one way a subscription becomes the JSON kept in Redis and back: the URL, signing secrets,
 * the Basic-auth password and custom header values are sealed (AES-256-GCM), the rest stays
 * readable. Every reader of a stored subscription goes through `decode`.
 */
export class SubscriptionCodec {
  constructor(private readonly box: SecretBox) {}

  encode(subscription: Subscription): string {
    const { url, secrets, headers, auth, ...rest } = subscription;
    const parts: SealedParts = { url, secrets, password: auth?.password, headers };
    const stored: StoredSubscription = {
      ...rest,
      auth: auth ? { type: auth.type, username: auth.username } : undefined,
      sealed: this.box.seal(JSON.stringify(parts), subscription.id),
    };
    return JSON.stringify(stored);
  }

  decode(raw: string): Subscription {
    const stored = JSON.parse(raw) as StoredSubscription | Subscription;
    // Written before secrets were encrypted: read as it is, sealed at its next change.
    if (!("sealed" in stored)) return stored;
    const { sealed, auth, url, ...rest } = stored;
    const parts = JSON.parse(this.box.open(sealed, rest.id)) as SealedParts;
    return {
      ...rest,
      url: parts.url ?? url!,
      secrets: parts.secrets,
      headers: parts.headers,
      auth: auth ? { ...auth, password: parts.password ?? "" } : undefined,
    };
  }
}
