import type { SecretBox } from "../policy/secret-box.js";
import type { SubscriptionStore } from "../store/subscription-store.js";
import type { Logger } from "./logger.js";

/**
 * What both apps do at start: say which key seals, and name every key that seals some
 * subscriptions but that this process does not hold (a rotation's old key dropped too soon,
 * or a process started on the wrong setting). It does not refuse to start: the others are
 * served, and those subscriptions are reported unreadable and wait until the key is back.
 */
export async function checkEncryptionKeys(subscriptions: SubscriptionStore, encryption: SecretBox, logger: Logger): Promise<void> {
  const usage = await subscriptions.keyUsage();
  for (const [keyId, count] of usage.byKey) {
    if (!encryption.holds(keyId))
      logger.error(
        { keyId, subscriptions: count },
        "HOOKBUS_ENCRYPTION_KEY lacks a key that seals subscriptions: their deliveries wait until it is given back",
      );
  }
  logger.info({ sealingKeyId: encryption.sealingKeyId, keyIds: encryption.keyIds }, "encryption keys");
}
