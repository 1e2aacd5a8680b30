import {
  decideAttemptOutcome,
  deliveriesWait,
  effectiveSchedule,
  isSettled,
  type Attempt,
  type AttemptDecision,
  type Delivery,
  type EventRecord,
  type Subscription,
} from "@hookbus/core/policy";
import { disableSubscription, wakeInLane } from "@hookbus/core/flows";
import {
  attemptLeaseMs,
  loadAttemptInputs,
  maxInFlight,
  publishSyncOutcome,
  sendTogether,
  syncOutcomeOf,
  type ClaimVerdict,
  type GateVerdict,
  type LaneMember,
  type ParkedJob,
} from "@hookbus/core/store";
import { deliverJobId, enqueueNextAttempt, promoteDeliverJob, QUEUE_NAMES, type DeliverJobData } from "@hookbus/core/queue";
import type { HookbusContext, Logger } from "@hookbus/core/runtime";
import type { DisabledReason } from "@hookbus/schemas";
import type { WorkerMetrics } from "../metrics.js";
import { truncate, type AttemptResult, type WebhookHttpClient } from "./http-client.js";
import { LOCAL_WAIT_MS, LocalHandOffs, type AskAnswered, type HandOff } from "./local-hand-offs.js";
import { keptWrite } from "./kept-write.js";
import { signedRequest } from "./signed-request.js";

/** A claim held this long (ms) while its delivery waited here (for a slot, or its turn to send) is leased again before the attempt. */
const CLAIM_RENEWED_AFTER_MS = 1_000;

/** Response bodies kept in the delivery log. */
export const LOGGED_BODY_BYTES = 4 * 1024;

/** What one delivery attempt needs, loaded by the job that runs it. */
export interface AttemptInputs {
  delivery: Delivery;
  subscription: Subscription;
  event: EventRecord;
  /** The job the delivery's next run belongs to: where the gate parks it and what wakes it. */
  job: ParkedJob;
  /** What the job carries: who waits on the first attempt, if anyone, and the bulk replay it belongs to. */
  data: Pick<DeliverJobData, "reportTo" | "replayId" | "replayRatePerSecond">;
}

export interface RunOptions {
  /**
   * Where the send waits its turn once the gate let it through (the route job's attempt
   * slots); none: at once. Undefined for an attempt it declined to begin (shutting down): the
   * slot is freed and the delivery is due again at once, for whichever worker takes its job.
   */
  sendSlot?: <T>(attempt: () => Promise<T>) => Promise<T | undefined>;
  /**
   * The longest an attempt parked behind this process's own attempts to its endpoint may wait
   * here for their slots while they keep ending (default LOCAL_WAIT_MS: a deliver job holds a
   * worker slot meanwhile).
   */
  longestLocalWaitMs?: number;
}

/**
 * How an attempt ended: finished (delivered or dead-lettered); to run again at `at` (a retry,
 * or a wait for its endpoint or for another process's attempt of it); or stale, when the
 * delivery was not what its caller loaded (finished, attempted or gone since): nothing was sent.
 */
export type AttemptEnd =
  /** Delivered or dead-lettered; it finished its lane's turn, the next of the lane, if any. */
  | { kind: "finished"; nextInLane?: LaneMember }
  | { kind: "again"; at: number; waitedForEndpoint: boolean; waitedInLane?: boolean }
  | { kind: "stale" };

/**
 * One delivery attempt, whichever job runs it (the route job for a first attempt, the deliver
 * job for the rest). It asks the endpoint's gate for a slot first; a delivery that must wait
 * (circuit open, endpoint at its cap, rate limit) is told when to look again, with no attempt
 * spent. After the attempt it records it, frees the slot (waking the jobs parked longest),
 * and decides from the result, the retry schedule and the receiver's Retry-After whether the
 * delivery is finished or runs again. The delivery log, not the job, counts attempts.
 */
export class DeliveryAttempt {
  constructor(
    private readonly context: HookbusContext,
    private readonly http: WebhookHttpClient,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
    private readonly handOffs = new LocalHandOffs(),
  ) {}

  async run(inputs: AttemptInputs, options: RunOptions = {}): Promise<AttemptEnd> {
    const end = await this.runOne(inputs, options);
    if (end.kind === "finished") await this.continueLane(end.nextInLane, inputs.subscription, options);
    return end;
  }

  /**
   * Goes on with the lane of a delivery finished by a run of its job that died after (a job run
   * again after its worker's death): that run was attempting the next ones of the lane itself,
   * with no job behind them, so this one takes over from the lane's head.
   */
  async resumeLane(delivery: Delivery, subscription: Subscription): Promise<void> {
    if (delivery.orderingKey === undefined) return;
    await this.continueLane(await this.context.lanes.headOf({ ...delivery, orderingKey: delivery.orderingKey }), subscription, {});
  }

  /**
   * Attempts the next deliveries of a lane here, each as the one before it finishes, rather
   * than through a job: adding or promoting it, a worker taking it and loading it again cost
   * more than the attempt itself, and a key's deliveries come one after another (its
   * subscription, the lane's, is the one the attempt before it just loaded). A delivery waiting
   * in its lane has no job (see RouteEventJob); one that must wait now for anything else gets
   * one, due when it is. Should this process die meanwhile, the job whose run this is, run
   * again, takes the lane over (resumeLane). One that is not a plain first run of an async delivery (sync,
   * replayed, disabled, gone) is left to its job, woken or put back.
   */
  private async continueLane(first: LaneMember | undefined, lanesSubscription: Subscription, options: RunOptions): Promise<void> {
    for (let member = first; member !== undefined; ) {
      const { delivery, subscription, event } = await loadAttemptInputs(this.context, member, lanesSubscription);
      const plain =
        delivery?.status === "pending" &&
        delivery.orderingKey !== undefined &&
        deliverJobId(delivery) === delivery.id &&
        subscription?.mode === "async" &&
        !deliveriesWait(subscription) &&
        event !== undefined;
      if (!plain) return wakeInLane(this.context, [member]);
      const end = await this.runOne({ delivery, subscription, event, job: firstRunJob(delivery), data: {} }, options);
      if (end.kind === "stale" || (end.kind === "again" && end.waitedInLane)) return;
      if (end.kind === "again") return this.runAgainAsJob(end, delivery);
      member = end.nextInLane;
    }
  }

  private async runOne({ delivery, subscription, event, job, data }: AttemptInputs, options: RunOptions): Promise<AttemptEnd> {
    const attemptInRun = delivery.attemptCount - delivery.runStartedAtAttempt + 1;
    const reportTo = attemptInRun === 1 ? data.reportTo : undefined;
    const replay = data.replayId && data.replayRatePerSecond ? { id: data.replayId, ratePerSecond: data.replayRatePerSecond } : undefined;
    // Its lane says whether it is this delivery's turn; the gate then whether the endpoint has room.
    if (delivery.orderingKey !== undefined) {
      const at = Date.now() + this.context.lanes.waitMs;
      if ((await this.context.lanes.turn({ ...delivery, orderingKey: delivery.orderingKey }, at)) !== "go") {
        this.metrics.recordWait("in_lane");
        return { kind: "again", at, waitedForEndpoint: false, waitedInLane: true };
      }
    }
    const longestLocalWait = options.longestLocalWaitMs ?? LOCAL_WAIT_MS;
    // The delivery is claimed as it asks for a slot (or waits here for one), so that no other
    // process attempts it meanwhile and it is still what its caller loaded. The claim is leased
    // for an attempt, leased again once a wait here for a slot has taken a while (a worker that
    // dies holds it no longer than one attempt's lease), and goes back with the attempt's
    // record, or when the delivery waits elsewhere.
    const leaseMs = attemptLeaseMs(subscription);
    const takeClaim = () => this.context.claims.take(delivery, leaseMs);
    let claimedAt = performance.now();
    // Behind this process's own attempts to the endpoint, which hold every slot: the gate would
    // park it, so it waits here for the slot one of them frees without asking (a round trip
    // saved per attempt where one endpoint takes many). Deliveries the gate parked, other
    // processes' among them, still get slots first. Not where a rate limit applies: only the
    // gate's acquire keeps it.
    let handOff: HandOff = "none";
    let held: ClaimVerdict | undefined;
    // One that goes to ask counts as asking from now on, its claim's round trip included, so
    // that those behind it in the same burst wait here.
    let asking: AskAnswered | undefined;
    if (replay === undefined && !subscription.ratePerSecond && this.handOffs.holdsEverySlot(subscription.id, maxInFlight(subscription))) {
      held = await takeClaim();
      if (!held.go) return this.claimRefused(held);
      claimedAt = performance.now();
      handOff = await this.handOffs.waitForSlot(subscription.id, delivery.id, { claimable: true, parked: false }, longestLocalWait);
    } else asking = this.handOffs.asks(subscription.id);
    // The claim comes before the gate: two runs of one delivery asking both at once could each
    // be refused by the other (one by the claim, the other by the slot the first took), and both
    // wait out a lease.
    let claim: ClaimVerdict;
    try {
      claim = held ?? (await takeClaim());
    } catch (error) {
      asking?.(false);
      throw error;
    }
    if (!claim.go) {
      asking?.(false);
      return this.claimRefused(claim);
    }
    const { owner } = claim;
    if (!held) claimedAt = performance.now();
    // Given a slot by a release: it goes. Handed one by the gate: it takes it there. Else it asks.
    const verdictAfter = (wait: HandOff): Promise<GateVerdict> =>
      wait === "given"
        ? Promise.resolve({ go: true })
        : wait === "handed"
          ? this.enterHolding(subscription, delivery, job, replay, owner)
          : this.ask(subscription, delivery, job, replay, owner, asking);
    let verdict = await verdictAfter(handOff);
    // Parked, or its circuit open: others wait for the endpoint's slots, which are not passed on meanwhile.
    if (!verdict.go && (verdict.why === "at_capacity" || verdict.why === "circuit_open")) this.handOffs.gateSays(subscription.id, false);
    // Parked behind this process's own attempts to the endpoint: the slot one of them frees
    // comes here, without the queue, when it comes soon enough; given it by that release, the
    // attempt goes without asking the gate again.
    if (!verdict.go && verdict.why === "at_capacity" && this.handOffs.expectsRelease(subscription.id)) {
      await this.wake(verdict.handedOff);
      handOff = await this.handOffs.waitForSlot(
        subscription.id,
        delivery.id,
        { claimable: replay === undefined, parked: true },
        longestLocalWait,
      );
      verdict = await verdictAfter(handOff);
    }
    const handedHere = handOff !== "none";
    if (!verdict.go) {
      if (handedHere) this.handOffs.settled(subscription.id);
      const { why, until } = verdict;
      // One that waits for its endpoint is looked at by the reconciler once its wait is over.
      const watchUntil = why === "attempt_running" ? undefined : until;
      await Promise.all([this.wake(verdict.handedOff), this.context.claims.drop(delivery.id, owner, watchUntil)]);
      this.metrics.recordWait(why);
      // A sync publisher waiting on an endpoint whose circuit is open is told at once, rather than left to its timeout.
      if (why === "circuit_open" && reportTo) {
        await this.reportOutcome(reportTo, delivery, {
          ok: false,
          error: "connection",
          message: "the endpoint's circuit is open",
          durationMs: 0,
        });
      }
      return { kind: "again", at: until, waitedForEndpoint: why === "at_capacity" };
    }
    if (!handedHere) this.handOffs.began(subscription.id);
    try {
      const sendSlot = options.sendSlot ?? ((attempt) => attempt());
      const end = await sendSlot(async () => {
        // Waited a while here (for a slot, or for its turn to send): its claim is leased again first.
        if (performance.now() - claimedAt > CLAIM_RENEWED_AFTER_MS) {
          const renewed = await this.context.claims.take(delivery, leaseMs, owner);
          if (!renewed.go) {
            await this.wake((await this.context.endpoints.leave(subscription, delivery.id, "none")).handedOff);
            return this.claimRefused(renewed);
          }
        }
        return this.attempt({ delivery, subscription, event, data }, attemptInRun, reportTo, owner);
      });
      if (end) return end;
      const [released] = await Promise.all([
        this.context.endpoints.leave(subscription, delivery.id, "none"),
        this.context.claims.drop(delivery.id, owner),
      ]);
      await this.wake(released.handedOff);
      return { kind: "again", at: Date.now(), waitedForEndpoint: false };
    } finally {
      this.handOffs.settled(subscription.id);
    }
  }

  /**
   * Asks the gate for a slot for a delivery that was handed none (`enterHolding`), counted
   * among this process's attempts to the endpoint while it asks (LocalHandOffs.asks).
   */
  private async ask(
    subscription: Subscription,
    delivery: Delivery,
    job: ParkedJob,
    replay: { id: string; ratePerSecond: number } | undefined,
    owner: string,
    answered: AskAnswered = this.handOffs.asks(subscription.id),
  ): Promise<GateVerdict> {
    let go = false;
    try {
      const verdict = await this.enterHolding(subscription, delivery, job, replay, owner);
      go = verdict.go;
      return verdict;
    } finally {
      answered(go);
    }
  }

  /** Asks the gate for a slot for a delivery whose claim `owner` holds; should the call fail, the claim goes back before the error is thrown. */
  private async enterHolding(
    subscription: Subscription,
    delivery: Delivery,
    job: ParkedJob,
    replay: { id: string; ratePerSecond: number } | undefined,
    owner: string,
  ): Promise<GateVerdict> {
    try {
      return await this.context.endpoints.enter(subscription, job, replay);
    } catch (error) {
      // Nothing was sent: the run again of its job must not find its own claim in the way.
      await this.context.claims.drop(delivery.id, owner).catch(() => undefined);
      throw error;
    }
  }

  /** Its claim refused: nothing to attempt (stale), or another process's attempt of it runs until its lease ends. */
  private claimRefused(claim: Exclude<ClaimVerdict, { go: true }>): AttemptEnd {
    if (claim.why === "stale") return { kind: "stale" };
    this.metrics.recordWait(claim.why);
    return { kind: "again", at: claim.until, waitedForEndpoint: false };
  }

  /** The attempt itself, once the gate let it through and its claim is held by `claimOwner`: send, record, release, decide. */
  private async attempt(
    { delivery, subscription, event, data }: Omit<AttemptInputs, "job">,
    attemptInRun: number,
    reportTo: string | undefined,
    claimOwner: string,
  ): Promise<AttemptEnd> {
    const slotTakenAt = performance.now();
    const result = await this.http.send(signedRequest(delivery, subscription, event));
    const now = Date.now();
    const decision = decideAttemptOutcome({
      result,
      schedule: effectiveSchedule(subscription.retrySchedule, this.context.config.retrySchedule),
      attemptInRun,
      now,
    });
    // Passed on at once, the slot is held no longer than the answer took to come. Not where a
    // rate limit applies (set since the waiters began to wait): only the gate's acquire keeps it.
    const passedTo = result.ok && !subscription.ratePerSecond ? this.handOffs.passOn(subscription.id) : undefined;
    const passedAt = passedTo ? performance.now() : undefined;
    // A slot passed on frees none: the release names nobody to give one to.
    const named = passedTo ? [] : this.handOffs.claimable(subscription.id);
    const kept = <T>(write: () => Promise<T>, what: string) => keptWrite(this.context.redis, write, what, this.logger);
    const record = attemptRecord(result, now);
    const [recorded, released] = await sendTogether(this.context.redis, () =>
      Promise.all([
        kept(
          () => this.context.deliveries.recordAttempt(delivery, record, decision.status, decision.nextAttemptAt, claimOwner),
          "the attempt's record",
        ),
        kept(
          () =>
            this.context.endpoints.leave(subscription, delivery.id, result.ok ? "ok" : "fail", {
              now,
              attemptAt: record.at,
              waitingHere: named,
              passedTo,
            }),
          "the slot's release",
        ),
        reportTo ? kept(() => this.reportOutcome(reportTo, delivery, result), "the sync report") : undefined,
        kept(() => this.countReplayOutcome(data.replayId, decision.status), "the replay's count"),
      ]),
    ).finally(() => this.handOffs.answered(named));
    this.metrics.recordSlotHold((passedAt ?? performance.now()) - slotTakenAt, result.durationMs);
    this.handOffs.gateSays(subscription.id, released.mayPassOn);
    await Promise.all([this.wake(released.handedOff), this.startGiven(subscription, released.givenToCaller)]);
    const failingFor = released.failingSince === undefined ? 0 : now - released.failingSince;
    const disableFor = decision.disable ?? (failingFor >= this.context.config.disableAfterMs ? "failing" : undefined);
    if (disableFor) await this.disable(subscription, disableFor);

    this.metrics.recordAttempt(event, result, decision.status);
    this.log(delivery, subscription, result, decision);
    return decision.status === "retrying"
      ? { kind: "again", at: decision.nextAttemptAt!, waitedForEndpoint: false }
      : { kind: "finished", nextInLane: recorded.nextInLane };
  }

  /** Its subscription or event is gone: it can never be sent, so it is dead-lettered (and counts as failed in its replay). */
  async deadLetterUndeliverable(delivery: Delivery, replayId: string | undefined): Promise<void> {
    this.logger.warn({ deliveryId: delivery.id, eventId: delivery.eventId }, "subscription or event gone: delivery dead-lettered");
    if (isSettled(delivery.status)) return;
    const [deadLettered] = await Promise.all([
      this.context.deliveries.deadLetter(delivery, "its subscription or event was deleted"),
      this.countReplayOutcome(replayId, "failed"),
    ]);
    await wakeInLane(this.context, [deadLettered.nextInLane]);
  }

  /**
   * Call once the job of a delivery that must wait is in the delayed set. A slot may have been
   * handed to it between the gate parking it and that move (or before its job existed), or its
   * turn in its lane may have come meanwhile (the wake-up found its job still running): then
   * nothing would wake it before its wait ends, so it wakes itself.
   */
  async wakeIfReadyMeanwhile(end: Extract<AttemptEnd, { kind: "again" }>, delivery: Delivery, job: ParkedJob): Promise<void> {
    const ready =
      (end.waitedForEndpoint && (await this.context.endpoints.holdsSlot(delivery.subscriptionId, delivery.id))) ||
      (end.waitedInLane &&
        delivery.orderingKey !== undefined &&
        (await this.context.lanes.turn({ ...delivery, orderingKey: delivery.orderingKey }, end.at)) === "go");
    if (ready) await promoteDeliverJob(this.context.queues, job.queue, job.jobId);
  }

  /**
   * A first attempt made outside its job (by the route job, or as a lane's next) that must run
   * again: its job is added, due when it is, and woken should its turn have come meanwhile.
   */
  async runAgainAsJob(end: Extract<AttemptEnd, { kind: "again" }>, delivery: Delivery): Promise<void> {
    await enqueueNextAttempt(this.context.queues, delivery, end.at);
    await this.wakeIfReadyMeanwhile(end, delivery, firstRunJob(delivery));
  }

  /**
   * Wakes the parked deliveries a freed slot was handed to: one waiting in this process at
   * once, another's job through its queue. One whose job is not yet delayed wakes itself
   * (wakeIfHandedASlot).
   */
  private async wake(parked: ParkedJob[]): Promise<void> {
    await Promise.all(
      parked.map(async ({ queue, jobId, deliveryId }) => {
        if (!this.handOffs.handTo(deliveryId, "handed")) await promoteDeliverJob(this.context.queues, queue, jobId);
      }),
    );
  }

  /**
   * Starts the waiting attempts a release gave a slot to in this process. One that stopped
   * waiting meanwhile (its wait timed out) will ask the gate itself: its slot is freed for it.
   */
  private async startGiven(subscription: Subscription, deliveryIds: string[]): Promise<void> {
    for (const deliveryId of deliveryIds) {
      if (this.handOffs.handTo(deliveryId, "given")) continue;
      await this.wake((await this.context.endpoints.leave(subscription, deliveryId, "none")).handedOff);
    }
  }

  private async disable(subscription: Subscription, reason: DisabledReason): Promise<void> {
    const disabled = await disableSubscription(this.context, subscription.id, reason);
    if (!disabled) return;
    this.metrics.recordDisabled(reason);
    this.logger.warn({ subscriptionId: subscription.id, reason }, "subscription disabled");
  }

  private async countReplayOutcome(replayId: string | undefined, status: AttemptDecision["status"]): Promise<void> {
    if (replayId && status !== "retrying") await this.context.replays.recordOutcome(replayId, status === "delivered");
  }

  private async reportOutcome(listenerId: string, delivery: Delivery, result: AttemptResult): Promise<void> {
    await publishSyncOutcome(this.context.redis, this.context.keys, listenerId, delivery.eventId, {
      subscriptionId: delivery.subscriptionId,
      deliveryId: delivery.id,
      outcome: syncOutcomeOf(result.error),
      statusCode: result.statusCode,
      body: result.body,
      durationMs: result.durationMs,
      message: result.ok ? undefined : result.message,
    });
  }

  /** Every attempt at debug; failures at info, dead letters at warn. */
  private log(delivery: Delivery, subscription: Subscription, result: AttemptResult, decision: AttemptDecision): void {
    const level = decision.status === "failed" ? "warn" : result.ok ? "debug" : "info";
    this.logger[level](
      {
        eventId: delivery.eventId,
        deliveryId: delivery.id,
        subscriptionId: subscription.id,
        status: decision.status,
        statusCode: result.statusCode,
        error: result.error,
        durationMs: result.durationMs,
      },
      "delivery attempt",
    );
  }
}

function attemptRecord(result: AttemptResult, now: number): Attempt {
  return {
    at: now - Math.round(result.durationMs),
    statusCode: result.statusCode,
    error: result.error,
    message: result.message,
    durationMs: result.durationMs,
    responseBody: result.body === undefined ? undefined : truncate(result.body, LOGGED_BODY_BYTES),
  };
}

/** The job of a delivery's first run, under the delivery's id: where its first attempt parks, and what wakes it. */
export function firstRunJob(delivery: Pick<Delivery, "id">): ParkedJob {
  return { queue: QUEUE_NAMES.deliver, jobId: delivery.id, deliveryId: delivery.id };
}
