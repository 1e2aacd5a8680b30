import { DelayedError, type Job } from "bullmq";
import {
  disableSubscription,
  effectiveSchedule,
  loadAttemptInputs,
  publishSyncOutcome,
  QUEUE_NAMES,
  syncOutcomeOf,
  type Attempt,
  type DeliverJobData,
  type Delivery,
  type GateVerdict,
  type HookbusContext,
  type Logger,
  type ParkedJob,
  type Subscription,
} from "@hookbus/core";
import { decideAttemptOutcome, type AttemptDecision } from "../delivery/attempt-outcome.js";
import { truncate, type AttemptResult, type WebhookHttpClient } from "../delivery/http-client.js";
import { signedRequest } from "../delivery/signed-request.js";
import type { WorkerMetrics } from "../metrics.js";

/** Response bodies kept in the delivery log. */
export const LOGGED_BODY_BYTES = 4 * 1024;

/**
 * The deliver job: one attempt per run. It asks the endpoint's gate for a slot first; a
 * delivery that must wait (circuit open, endpoint at its cap, rate limit) goes back to the
 * delayed set without spending an attempt or holding a worker. After the attempt it records
 * it, frees the slot (waking the job parked longest), and either finishes (delivered,
 * dead-lettered) or sleeps until its next attempt, as decided from the result, the retry
 * schedule and the receiver's Retry-After. The delivery log, not the job, counts attempts,
 * so a job put back by the reconciler goes on where the delivery was.
 */
export class DeliverJob {
  constructor(
    private readonly context: HookbusContext,
    private readonly http: WebhookHttpClient,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {}

  async process(job: Job<DeliverJobData>, token?: string): Promise<void> {
    const { delivery, subscription, event } = await loadAttemptInputs(this.context.redis, this.context.keys, job.data);
    if (!delivery) return; // expired past retention
    if (!subscription || !event) return this.deadLetterUndeliverable(delivery, job.data);
    // Another job already finished it: this one is a stale duplicate (the reconciler's, say).
    if (delivery.status === "delivered" || delivery.status === "failed") return;
    // Kept as it is while its subscription is disabled; enabling the subscription resumes it.
    if (!subscription.enabled) return;

    const attemptInRun = delivery.attemptCount - delivery.runStartedAtAttempt + 1;
    const verdict = await this.context.endpoints.enter(subscription, { queue: job.queueName, jobId: job.id!, deliveryId: delivery.id });
    if (!verdict.go) return this.waitForEndpoint(job, token, verdict, delivery, attemptInRun);

    const result = await this.http.send(signedRequest(delivery, subscription, event));
    const now = Date.now();
    const decision = decideAttemptOutcome({
      result,
      schedule: effectiveSchedule(subscription.retrySchedule, this.context.config.retrySchedule),
      attemptInRun,
      now,
    });
    const [, released] = await Promise.all([
      this.context.deliveries.recordAttempt(delivery, attemptRecord(result, now), decision.status, decision.nextAttemptAt),
      this.context.endpoints.leave(subscription, delivery.id, result.ok ? "ok" : "fail", now),
      job.data.reportOutcome && attemptInRun === 1 ? this.reportOutcome(delivery, result) : undefined,
      this.countReplayOutcome(job.data, decision.status),
    ]);
    await this.wake(released.handedOff);
    const failingFor = released.failingSince === undefined ? 0 : now - released.failingSince;
    const disableFor = decision.disable ?? (failingFor >= this.context.config.disableAfterMs ? "failing" : undefined);
    if (disableFor) await this.disable(subscription, disableFor);

    this.metrics.recordAttempt(event, result, decision.status);
    this.log(delivery, subscription, result, decision);
    if (decision.status === "retrying") await this.sleepUntil(job, token, decision.nextAttemptAt!);
  }

  /**
   * Puts the job back in the delayed set until the gate's time, spending no attempt. A sync
   * publisher waiting on a delivery whose endpoint's circuit is open is told at once that it
   * failed, rather than left to its timeout.
   */
  private async waitForEndpoint(
    job: Job<DeliverJobData>,
    token: string | undefined,
    verdict: Extract<GateVerdict, { go: false }>,
    delivery: Delivery,
    attemptInRun: number,
  ): Promise<void> {
    this.metrics.recordWait(verdict.why);
    if (verdict.why === "circuit_open" && job.data.reportOutcome && attemptInRun === 1) {
      await this.reportOutcome(delivery, { ok: false, error: "connection", message: "the endpoint's circuit is open", durationMs: 0 });
    }
    await job.moveToDelayed(verdict.until, token);
    // A slot may have been handed to this job between the gate parking it and the move above:
    // then nothing would wake it before the park times out, so it wakes itself.
    if (verdict.why === "at_capacity" && (await this.context.endpoints.holdsSlot(delivery.subscriptionId, delivery.id))) {
      await job.promote().catch(() => undefined);
    }
    throw new DelayedError();
  }

  private async sleepUntil(job: Job<DeliverJobData>, token: string | undefined, at: number): Promise<never> {
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }

  /** Wakes the parked jobs a freed slot was handed to. One no longer delayed wakes itself (see waitForEndpoint). */
  private async wake(parked: ParkedJob[]): Promise<void> {
    await Promise.all(
      parked.map(async ({ queue, jobId }) => {
        const jobs = queue === QUEUE_NAMES.deliverSync ? this.context.queues.deliverSync : this.context.queues.deliver;
        const job = await jobs.getJob(jobId);
        await job?.promote().catch(() => undefined);
      }),
    );
  }

  private async disable(subscription: Subscription, reason: "gone" | "failing" | "admin"): Promise<void> {
    const disabled = await disableSubscription(this.context, subscription.id, reason);
    if (!disabled) return;
    this.metrics.recordDisabled(reason);
    this.logger.warn({ subscriptionId: subscription.id, reason }, "subscription disabled");
  }

  /** Its subscription or event is gone: it can never be sent, so it is dead-lettered (and counts as failed in its replay). */
  private async deadLetterUndeliverable(delivery: Delivery, data: DeliverJobData): Promise<void> {
    this.logger.warn({ deliveryId: delivery.id, eventId: delivery.eventId }, "subscription or event gone: delivery dead-lettered");
    if (delivery.status === "delivered" || delivery.status === "failed") return;
    await Promise.all([this.context.deliveries.markStatus(delivery, "failed"), this.countReplayOutcome(data, "failed")]);
  }

  private async countReplayOutcome(data: DeliverJobData, status: AttemptDecision["status"]): Promise<void> {
    if (data.replayId && status !== "retrying") await this.context.replays.recordOutcome(data.replayId, status === "delivered");
  }

  private async reportOutcome(delivery: Delivery, result: AttemptResult): Promise<void> {
    await publishSyncOutcome(this.context.redis, this.context.keys, delivery.eventId, {
      subscriptionId: delivery.subscriptionId,
      deliveryId: delivery.id,
      outcome: syncOutcomeOf(result.error),
      statusCode: result.statusCode,
      body: result.body,
      durationMs: result.durationMs,
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
