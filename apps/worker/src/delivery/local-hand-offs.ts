import type { WaitingDelivery } from "@hookbus/core/store";

/**
 * How long an attempt parked at its endpoint's cap goes on waiting in this process, for a slot
 * one of this process's own attempts to that endpoint frees, without any of them freeing one.
 * A waiter holds what carried it here (a deliver job's worker slot, a route job's share of the
 * events a worker routes at once): while the endpoint keeps releasing slots its waiters are
 * served in turn, but once it stops (it hangs), they give up soon and wait as delayed jobs, so
 * that the endpoint keeps nothing from the others.
 */
export const LOCAL_WAIT_MS = 250;

/** How often a waiter named in a release on its way looks whether the release has answered. */
const ANSWER_WAIT_MS = 5;

/**
 * The most waiting deliveries one release names to the gate. A release frees one slot, and
 * they are named longest waiting first, as the gate hands slots on: the first is nearly always
 * the one, the others stand in for those that stopped waiting meanwhile.
 */
const NAMED_PER_RELEASE = 4;

/** Ends an ask that `LocalHandOffs.asks` counted, with whether the gate let the attempt through; once only, later calls do nothing. */
export type AskAnswered = (go: boolean) => void;

/** How a local wait ended: given its slot by the release, handed a slot to take at the gate, or neither. */
export type HandOff = "given" | "handed" | "none";

interface Waiter extends WaitingDelivery {
  subscriptionId: string;
  /** Named to the gate by releases: false where a bulk replay's rate must be kept by the gate's acquire. */
  claimable: boolean;
  /** Releases naming it whose answer has not come: it may be given a slot by one, so it does not give up meanwhile. */
  namedBy: number;
  /** Ends the wait now; `atTurnEnd`: the waiter goes on once the event loop's current round of I/O is handled. */
  wake: (handOff: HandOff, when?: "now" | "atTurnEnd") => void;
}

/**
 * Attempts of this process parked at their endpoint's cap, waiting for the slot an attempt of
 * the same process frees. The gate still decides who gets a slot, first come first served
 * across all workers: this only lets a release give its slot to the next attempt of this
 * process in the same step (or wake the waiter it handed a slot to) in memory, instead of a
 * delayed job added, promoted and taken again; and, while nobody else waits at the endpoint,
 * an attempt pass its slot on at its answer, ahead of its release (`passOn`). A wait ends
 * when the slot comes, when this process has no attempt to that endpoint in flight any more
 * (no release of its own is coming), or at its time limit;
 * the waiter then asks the gate again, and parks as a delayed job if it must. A slot handed or
 * given here counts as in flight from that moment, so the other waiters do not give up in
 * the instant before it is taken.
 */
export class LocalHandOffs {
  private readonly waiting = new Map<string, Waiter>();
  /** The same waiters by endpoint, longest waiting first: a release looks only at its own endpoint's. */
  private readonly waitingAt = new Map<string, Set<Waiter>>();
  private readonly inFlight = new Map<string, number>();
  /** Attempts of this process asking the gate for a slot, by endpoint, their answer not yet come. */
  private readonly asking = new Map<string, number>();
  /** When an attempt of this process to each endpoint last ended. */
  private readonly lastRelease = new Map<string, number>();
  /** Endpoints whose last release said slots may be passed on there (`gateSays`). */
  private readonly passOnAllowed = new Set<string>();

  /**
   * Counts an attempt the gate let through, from that moment (before it waits for a send slot,
   * so that deliveries parked by the same gate round see a release coming) until `settled`.
   */
  began(subscriptionId: string): void {
    this.inFlight.set(subscriptionId, (this.inFlight.get(subscriptionId) ?? 0) + 1);
  }

  /** Ends what `began` or a hand-off counted: the last one in flight or asking at an endpoint sends its waiters back to the gate. */
  settled(subscriptionId: string): void {
    this.lastRelease.set(subscriptionId, performance.now());
    const left = this.inFlight.get(subscriptionId)! - 1;
    if (left > 0) return void this.inFlight.set(subscriptionId, left);
    this.inFlight.delete(subscriptionId);
    this.lastRelease.delete(subscriptionId);
    this.passOnAllowed.delete(subscriptionId);
    this.wakeAllUnlessReleaseComing(subscriptionId);
  }

  /** With no release of this process's own coming at the endpoint, sends every delivery waiting here back to the gate. */
  private wakeAllUnlessReleaseComing(subscriptionId: string): void {
    if (this.expectsRelease(subscriptionId)) return;
    for (const waiter of [...this.waitersAt(subscriptionId)]) waiter.wake("none");
  }

  /**
   * Counts an attempt asking the gate for a slot, until `askAnswered`. The attempts asking
   * count as holding slots: a burst of deliveries to one endpoint sends at most its cap of them
   * to ask, while the rest wait here for the slots those free, without a round trip each to be
   * parked.
   */
  asks(subscriptionId: string): AskAnswered {
    this.asking.set(subscriptionId, (this.asking.get(subscriptionId) ?? 0) + 1);
    let answered = false;
    return (go) => {
      if (answered) return;
      answered = true;
      this.askAnswered(subscriptionId, go);
    };
  }

  /**
   * The gate answered an ask (`go`: the attempt is let through, and counted by `began`), or it
   * was given up. When it was not let through, and this process has nothing left in flight or
   * asking there, no release of its own is coming: the deliveries waiting behind its asks go to
   * ask the gate themselves.
   */
  private askAnswered(subscriptionId: string, go: boolean): void {
    const left = this.asking.get(subscriptionId)! - 1;
    if (left > 0) this.asking.set(subscriptionId, left);
    else this.asking.delete(subscriptionId);
    if (!go) this.wakeAllUnlessReleaseComing(subscriptionId);
  }

  /** True when this process has attempts in flight to the endpoint, or asking: their releases will hand slots on. */
  expectsRelease(subscriptionId: string): boolean {
    return this.inFlight.has(subscriptionId) || this.asking.has(subscriptionId);
  }

  /** True when this process's attempts to the endpoint hold (or ask for) all its `cap` slots: the gate would park another. */
  holdsEverySlot(subscriptionId: string, cap: number): boolean {
    return (this.inFlight.get(subscriptionId) ?? 0) + (this.asking.get(subscriptionId) ?? 0) >= cap;
  }

  /**
   * Waits for a slot to come to the delivery here, as long as attempts to its endpoint end at
   * least every LOCAL_WAIT_MS and for `longestMs` at the most. `parked`: whether the gate parked
   * it, or it waits behind this process's own attempts without having asked.
   */
  waitForSlot(
    subscriptionId: string,
    deliveryId: string,
    { claimable, parked }: { claimable: boolean; parked: boolean },
    longestMs: number,
  ): Promise<HandOff> {
    const giveUpAt = performance.now() + longestMs;
    return new Promise((resolve) => {
      // A waiter that gave up while a release naming it was on its way could be given a slot by
      // that release as it asks the gate itself: the gate would then find its attempt already
      // running and send it to wait out the slot's whole lease. So it waits for that answer first.
      const look = () => {
        const now = performance.now();
        const released = this.lastRelease.get(subscriptionId) ?? -Infinity;
        if (waiter.namedBy > 0) timer = setTimeout(look, ANSWER_WAIT_MS);
        else if (now - released >= LOCAL_WAIT_MS || now >= giveUpAt) wake("none");
        else timer = setTimeout(look, Math.min(released + LOCAL_WAIT_MS, giveUpAt) - now);
      };
      let timer = setTimeout(look, LOCAL_WAIT_MS);
      const wake = (handOff: HandOff, when: "now" | "atTurnEnd" = "now") => {
        clearTimeout(timer);
        this.stopsWaiting(waiter);
        if (when === "atTurnEnd") setImmediate(resolve, handOff);
        else resolve(handOff);
      };
      const waiter: Waiter = { subscriptionId, deliveryId, parked, claimable, namedBy: 0, wake };
      this.startsWaiting(waiter);
    });
  }

  private startsWaiting(waiter: Waiter): void {
    this.waiting.set(waiter.deliveryId, waiter);
    const atEndpoint = this.waitingAt.get(waiter.subscriptionId);
    if (atEndpoint) atEndpoint.add(waiter);
    else this.waitingAt.set(waiter.subscriptionId, new Set([waiter]));
  }

  private stopsWaiting(waiter: Waiter): void {
    this.waiting.delete(waiter.deliveryId);
    const atEndpoint = this.waitingAt.get(waiter.subscriptionId);
    atEndpoint?.delete(waiter);
    if (atEndpoint?.size === 0) this.waitingAt.delete(waiter.subscriptionId);
  }

  /** The deliveries waiting here at an endpoint that a release may give its slot to, longest waiting first. */
  claimable(subscriptionId: string): WaitingDelivery[] {
    const named: WaitingDelivery[] = [];
    for (const waiter of this.waitersAt(subscriptionId)) {
      if (named.length === NAMED_PER_RELEASE) break;
      if (!waiter.claimable) continue;
      waiter.namedBy++;
      named.push({ deliveryId: waiter.deliveryId, parked: waiter.parked });
    }
    return named;
  }

  /** Call once the release that named these (from `claimable`) has answered, or failed. */
  answered(named: WaitingDelivery[]): void {
    for (const { deliveryId } of named) {
      const waiter = this.waiting.get(deliveryId);
      if (waiter) waiter.namedBy--;
    }
  }

  /**
   * What the gate said of the endpoint in a release, or in parking an ask of this process: with
   * nobody parked there, its circuit closed and its cap kept, the next attempt to end may pass
   * its slot on.
   */
  gateSays(subscriptionId: string, mayPassOn: boolean): void {
    if (mayPassOn) this.passOnAllowed.add(subscriptionId);
    else this.passOnAllowed.delete(subscriptionId);
  }

  /**
   * At a successful attempt's answer, gives its slot to the delivery waiting here longest
   * behind this process's own attempts (not parked, not named in a release on its way), so that
   * it goes at once instead of after the release's round trip; the release then tells the gate
   * (`EndpointGate.leave`'s `passedTo`). Only while the gate last said nobody else waits for a
   * slot there (`gateSays`). Returns the delivery given the slot, if any.
   */
  passOn(subscriptionId: string): string | undefined {
    if (!this.passOnAllowed.has(subscriptionId)) return undefined;
    for (const waiter of this.waitersAt(subscriptionId)) {
      if (!waiter.claimable || waiter.parked || waiter.namedBy > 0) continue;
      // It starts once the answers that came with this one are handled, not in their midst: the
      // attempts passed slots in one round of I/O then send together, and their answers come
      // back together, handled in fewer turns (measured at ten endpoints: a fifth less worker CPU
      // a delivery than starting each at once).
      this.give(waiter, "given", "atTurnEnd");
      return waiter.deliveryId;
    }
    return undefined;
  }

  private waitersAt(subscriptionId: string): Iterable<Waiter> {
    return this.waitingAt.get(subscriptionId) ?? [];
  }

  /** Wakes the delivery if it waits here, counting its slot in flight; false when it does not (its job must be woken, or its slot freed). */
  handTo(deliveryId: string, handOff: Exclude<HandOff, "none">): boolean {
    const waiter = this.waiting.get(deliveryId);
    if (!waiter) return false;
    this.give(waiter, handOff, "now");
    return true;
  }

  /** Ends a wait with a slot, counted in flight from this moment. */
  private give(waiter: Waiter, handOff: Exclude<HandOff, "none">, when: "now" | "atTurnEnd"): void {
    this.began(waiter.subscriptionId);
    waiter.wake(handOff, when);
  }
}
