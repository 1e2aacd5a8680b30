import { z } from "zod";
import { idOf } from "./primitives.js";

/** The encryption keys subscriptions' secrets are sealed with, as one ingest sees them. */
export const keyUsageView = z.object({
  /** The key new and resealed secrets are sealed with (HOOKBUS_SEALING_KEY, else the first key). */
  sealingKeyId: z.string(),
  /** Every key that seals at least one subscription: a key with none here may be dropped. */
  keys: z.array(
    z.object({
      id: z.string(),
      subscriptions: z.number().int(),
      /** Whether this ingest holds the key; one it does not hold makes those subscriptions unreadable. */
      held: z.boolean(),
    }),
  ),
  /** Subscriptions written before secrets were sealed at rest; a reseal seals them. */
  unsealed: z.number().int(),
});
export type KeyUsageView = z.infer<typeof keyUsageView>;

/** A reseal goes through the subscriptions in creation order, a page per request. */
export const resealBody = z.object({
  cursor: idOf("sub").optional().describe("the nextCursor of the previous answer"),
  limit: z.number().int().min(1).max(1000).default(200),
});
export type ResealBody = z.input<typeof resealBody>;

export const resealResult = z.object({
  /** Subscriptions this page went through. */
  checked: z.number().int(),
  /** Of those, sealed again under the sealing key. */
  resealed: z.number().int(),
  /** Of those, the ones whose secrets cannot be read here, so could not be resealed. */
  unreadable: z.array(idOf("sub")),
  /** Where the next page starts; null once every subscription was checked. */
  nextCursor: idOf("sub").nullable(),
  /**
   * Participant index sets (what an erasure reads) renamed under the sealing key, by the last
   * page; 0 on the others. After it, an older key can be dropped without erasures missing events.
   */
  reindexed: z.number().int(),
  /** The keys in use after this page. */
  keys: keyUsageView,
});
export type ResealResult = z.infer<typeof resealResult>;
