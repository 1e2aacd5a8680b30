import type { Subscription } from "./domain.js";
import { SecretBox, UnopenableError } from "./secret-box.js";

/** The parts of a subscription kept encrypted at rest. */
interface SealedParts {
  /** Its query string may hold the receiver's token. */
  url?: string;
  secrets: Subscription["secrets"];
  password?: string;
  headers?: Record<string, string>;
}

/** A subscription as stored: the secret parts in one ciphertext, bound to the subscription's id. */
type StoredSubscription = Omit<Subscription, "url" | "secrets" | "headers" | "auth" | "unreadable"> & {
  /** Only in subscriptions stored before the URL was sealed. */
  url?: string;
  auth?: { type: "basic"; username: string };
  sealed: string;
};

/** Told, once per subscription, that its secrets cannot be opened, and why. */
export type UnreadableListener = (subscriptionId: string, reason: string) => void;

/**
 * The one way a subscription becomes the JSON kept in Redis and back: the URL, signing secrets,
 * the Basic-auth password and custom header values are sealed (AES-256-GCM), the rest stays
 * readable. Every reader of a stored subscription goes through `decode`.
 */
export class SubscriptionCodec {
  /** Those already reported, so that a subscription read on every publish is logged once. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly box: SecretBox,
    private readonly onUnreadable: UnreadableListener = () => {},
  ) {}

  /** The key that seals what `encode` makes. */
  get sealingKeyId(): string {
    return this.box.sealingKeyId;
  }

  encode(subscription: Subscription): string {
    // A subscription read without its secrets must never be written back without them.
    if (subscription.unreadable) throw new Error(`subscription ${subscription.id} was read without its secrets`);
    const { url, secrets, headers, auth, ...rest } = subscription;
    const parts: SealedParts = { url, secrets, password: auth?.password, headers };
    const stored: StoredSubscription = {
      ...rest,
      auth: auth ? { type: auth.type, username: auth.username } : undefined,
      sealed: this.box.seal(JSON.stringify(parts), subscription.id),
    };
    return JSON.stringify(stored);
  }

  /**
   * A subscription whose secrets cannot be opened comes back all the same, with `unreadable`
   * saying why and no secrets: one such record must not stop the reads of all the others.
   */
  decode(raw: string): Subscription {
    const stored = JSON.parse(raw) as StoredSubscription | Subscription;
    // Written before secrets were encrypted: read as it is, sealed at its next change.
    if (!("sealed" in stored)) return stored;
    const { sealed, auth, url, ...rest } = stored;
    let parts: SealedParts;
    try {
      parts = JSON.parse(this.box.open(sealed, rest.id)) as SealedParts;
    } catch (error) {
      if (!(error instanceof UnopenableError)) throw error;
      this.report(rest.id, error.message);
      // Its URL is sealed with its secrets, unless it was stored before URLs were.
      return { ...rest, url: url ?? "", secrets: [], auth: auth ? { ...auth, password: "" } : undefined, unreadable: error.message };
    }
    return {
      ...rest,
      url: parts.url ?? url!,
      secrets: parts.secrets,
      headers: parts.headers,
      auth: auth ? { ...auth, password: parts.password ?? "" } : undefined,
    };
  }

  /** The id of the key a stored subscription's secrets are sealed with; undefined when written before they were sealed. */
  sealedWith(raw: string): string | undefined {
    const stored = JSON.parse(raw) as Partial<StoredSubscription>;
    return stored.sealed === undefined ? undefined : SecretBox.keyIdOf(stored.sealed);
  }

  private report(id: string, reason: string): void {
    const key = `${id} ${reason}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.onUnreadable(id, reason);
  }
}
