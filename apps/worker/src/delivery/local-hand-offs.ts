/**
 * How long a deliver job parked at its endpoint's cap waits in this process for a slot that one
 * of this process's own attempts to the same endpoint frees: a job holds one of the worker's
 * job slots while it waits, which a slow endpoint must not keep from the others.
 */
export const JOB_HAND_OFF_WAIT_MS = 250;

/**
 * Attempts of this process parked at their endpoint's cap, waiting for the slot an attempt of
 * the same process frees. The gate still decides who gets a slot, first come first served
 * across all workers: this only lets a release wake the waiter it handed a slot to in memory,
 * with one gate call, instead of a delayed job added, promoted and taken again. A wait ends
 * when the slot is handed, when this process has no attempt to that endpoint in flight any
 * more (no release of its own is coming), or at its time limit; the waiter then asks the gate
 * again, and parks as a delayed job if it must. A slot handed here counts as in flight from the
 * moment it is handed, so the other waiters do not give up in the instant before it is taken.
 */
export class LocalHandOffs {
  private readonly waiting = new Map<string, { subscriptionId: string; wake: (handed: boolean) => void }>();
  private readonly inFlight = new Map<string, number>();

  /**
   * Counts an attempt the gate let through, from that moment (before it waits for a send slot,
   * so that deliveries parked by the same gate round see a release coming) until `settled`.
   * A slot handed here was counted when it was handed.
   */
  began(subscriptionId: string): void {
    this.inFlight.set(subscriptionId, (this.inFlight.get(subscriptionId) ?? 0) + 1);
  }

  /** Ends what `began` or `handTo` counted: the last one in flight to an endpoint sends its waiters back to the gate. */
  settled(subscriptionId: string): void {
    const left = this.inFlight.get(subscriptionId)! - 1;
    if (left > 0) return void this.inFlight.set(subscriptionId, left);
    this.inFlight.delete(subscriptionId);
    for (const waiter of [...this.waiting.values()]) if (waiter.subscriptionId === subscriptionId) waiter.wake(false);
  }

  /** True when this process has attempts in flight to the endpoint: their releases will hand slots on. */
  expectsRelease(subscriptionId: string): boolean {
    return this.inFlight.has(subscriptionId);
  }

  /** Waits, at most `ms`, for a slot to be handed to the delivery here; true when one was. */
  waitForSlot(subscriptionId: string, deliveryId: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => wake(false), ms);
      const wake = (handed: boolean) => {
        clearTimeout(timer);
        this.waiting.delete(deliveryId);
        resolve(handed);
      };
      this.waiting.set(deliveryId, { subscriptionId, wake });
    });
  }

  /** Wakes the delivery if it waits here, counting its slot in flight; false when it does not (its job must be woken). */
  handTo(deliveryId: string): boolean {
    const waiter = this.waiting.get(deliveryId);
    if (!waiter) return false;
    this.began(waiter.subscriptionId);
    waiter.wake(true);
    return true;
  }
}
