import { randomUUID } from "node:crypto";
import type { RedisConnection } from "./redis.js";
import type { Delivery } from "../policy/domain.js";
import { partitionOfId } from "../policy/ids.js";
import type { Keys } from "./keys.js";
import { defineScript, readLua } from "./redis.js";

const CLAIM = readLua(import.meta.url, "attempt-claim.lua");

/** The delivery an attempt is for, at the attempt count its caller loaded it with. */
export type ClaimableDelivery = Pick<Delivery, "id" | "attemptCount">;

/** What a claim's taking says: go (the caller holds it, as `owner`), or why not. */
export type ClaimVerdict =
  | { go: true; owner: string }
  /** Another process is attempting this delivery; its lease ends at `until` (ms). */
  | { go: false; why: "attempt_running"; until: number }
  /** The delivery finished, moved on to another attempt, was erased or expired since it was loaded: nothing to attempt. */
  | { go: false; why: "stale" };

/**
 * One attempt of a delivery at a time, whatever woke it (a retry's job, the reconciler, a
 * replay, a publish of the same event again): an attempt claims its delivery as it asks its
 * endpoint for a slot, and its record gives the claim back. The claim lives beside the delivery's record,
 * in its Redis Cluster slot, apart from the endpoint's gate, which every event's deliveries to
 * that endpoint share.
 */
export class AttemptClaims {
  private readonly claim;

  /** @param watchGraceMs how far past a wait's end the reconciler looks at a waiting delivery again */
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    private readonly watchGraceMs: number,
  ) {
    this.claim = defineScript<[string, number] | number>(redis, "hookbusAttemptClaim", 3, CLAIM);
  }

  /**
   * Claims the delivery for an attempt to be sent now, held for at most `leaseMs`; with the
   * `owner` of a claim taken before, leases it again from now.
   */
  async take(delivery: ClaimableDelivery, leaseMs: number, owner: string = randomUUID(), now = Date.now()): Promise<ClaimVerdict> {
    const reply = await this.claim.run(this.claimKeys(delivery.id), ["take", delivery.attemptCount, owner, Math.ceil(leaseMs)]);
    const [verdict, leftMs] = reply as [string, number];
    if (verdict === "go") return { go: true, owner };
    if (verdict === "busy") return { go: false, why: "attempt_running", until: now + Number(leftMs) };
    return { go: false, why: "stale" };
  }

  /**
   * Gives back a claim without an attempt recorded: the attempt was not sent. A delivery that
   * waits until `waitsUntil` (ms) is looked at by the reconciler only once that wait is over.
   */
  async drop(deliveryId: string, owner: string, waitsUntil?: number): Promise<void> {
    const watchAt = waitsUntil === undefined ? "" : waitsUntil + this.watchGraceMs;
    await this.claim.run(this.claimKeys(deliveryId), ["drop", owner, deliveryId, watchAt]);
  }

  /** When the attempt claiming the delivery now loses its claim at the latest (ms); undefined when none does. */
  async heldUntil(deliveryId: string, now = Date.now()): Promise<number | undefined> {
    const leftMs = await this.redis.pttl(this.keys.attemptClaim(deliveryId));
    return leftMs > 0 ? now + leftMs : undefined;
  }

  private claimKeys(deliveryId: string): string[] {
    return [this.keys.delivery(deliveryId), this.keys.attemptClaim(deliveryId), this.keys.deliveriesToWatch(partitionOfId(deliveryId))];
  }
}
