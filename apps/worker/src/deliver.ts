import type { Job } from "bullmq";
import {
  activeSecrets,
  effectiveSchedule,
  nextRetryDelay,
  publishSyncOutcome,
  signatureHeader,
  type Attempt,
  type DeliverJobData,
  type Delivery,
  type EventRecord,
  type HookbusContext,
  type Logger,
  type Subscription,
  type SyncOutcome,
  loadAttemptInputs,
  syncOutcomeOf,
} from "@hookbus/core";
import { truncate, type AttemptResult, type WebhookHttpClient } from "./http-attempt.js";
import type { WorkerMetrics } from "./metrics.js";
import { renderBody } from "./render-body.js";

/** Response bodies kept in the delivery log. */
export const LOGGED_BODY_BYTES = 4 * 1024;

const USER_AGENT = "Hookbus/0.1 (+webhooks)";

/** Thrown to have BullMQ run the job again after `delayMs`: the retry policy's delay. */
export class RetryLaterError extends Error {
  override name = "RetryLaterError";
  constructor(readonly delayMs: number, reason: string) {
    super(`attempt failed (${reason}); next attempt in ${delayMs} ms`);
  }
}

/**
 * Runs one delivery attempt per job run: builds the signed request, sends it, records the
 * attempt, and leaves the delivery delivered, retrying (BullMQ runs the job again after the
 * delay the retry policy chose) or failed, i.e. dead-lettered after its last attempt.
 */
export class DeliveryProcessor {
  constructor(
    private readonly context: HookbusContext,
    private readonly http: WebhookHttpClient,
    private readonly metrics: WorkerMetrics,
    private readonly logger: Logger,
  ) {}

  async process(job: Job<DeliverJobData>): Promise<void> {
    const loaded = await this.load(job.data);
    if (!loaded) return;
    const { delivery, subscription, event } = loaded;
    const result = await this.attempt(delivery, subscription, event);
    const attemptsInJob = job.attemptsMade + 1;
    const retryDelay = result.ok
      ? null
      : nextRetryDelay(effectiveSchedule(subscription.retrySchedule, this.context.config.retrySchedule), attemptsInJob);
    const status = result.ok ? "delivered" : retryDelay === null ? "failed" : "retrying";
    const attempt: Attempt = {
      at: Date.now() - Math.round(result.durationMs),
      statusCode: result.statusCode,
      error: result.error,
      message: result.message,
      durationMs: result.durationMs,
      responseBody: result.body === undefined ? undefined : truncate(result.body, LOGGED_BODY_BYTES),
    };
    await Promise.all([
      this.context.deliveries.recordAttempt(delivery, attempt, status, retryDelay === null ? undefined : Date.now() + retryDelay),
      job.data.reportOutcome && job.attemptsMade === 0 ? this.reportOutcome(delivery, result) : undefined,
      job.data.replayId && status !== "retrying" ? this.context.replays.recordOutcome(job.data.replayId, status === "delivered") : undefined,
    ]);
    this.metrics.recordAttempt(event, result, status);
    this.logger.info(
      { eventId: event.id, deliveryId: delivery.id, subscriptionId: subscription.id, status, statusCode: result.statusCode, error: result.error, durationMs: result.durationMs },
      "delivery attempt",
    );
    if (retryDelay !== null) throw new RetryLaterError(retryDelay, result.error ?? "unknown");
  }

  private async attempt(delivery: Delivery, subscription: Subscription, event: EventRecord): Promise<AttemptResult> {
    const body = renderBody(event, subscription);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      ...subscription.headers,
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      "webhook-id": delivery.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signatureHeader(activeSecrets(subscription.secrets), delivery.id, timestamp, body),
    };
    if (subscription.auth) {
      // As TrialKit builds it: base64 of "email:password".
      const credentials = Buffer.from(`${subscription.auth.username}:${subscription.auth.password}`).toString("base64");
      headers.authorization = `Basic ${credentials}`;
    }
    return this.http.send({ url: subscription.url, headers, body, timeoutMs: subscription.timeoutMs });
  }

  /** The delivery with what it needs, or undefined when it can no longer be made. */
  private async load(data: DeliverJobData) {
    const { delivery, subscription, event } = await loadAttemptInputs(this.context, data);
    if (!delivery) return undefined; // expired past retention
    if (!subscription || !event) {
      this.logger.warn({ deliveryId: delivery.id, eventId: delivery.eventId }, "subscription or event gone: delivery dead-lettered");
      await this.context.deliveries.markStatus(delivery, "failed");
      return undefined;
    }
    return { delivery, subscription, event };
  }

  private async reportOutcome(delivery: Delivery, result: AttemptResult): Promise<void> {
    const outcome: SyncOutcome = {
      subscriptionId: delivery.subscriptionId,
      deliveryId: delivery.id,
      outcome: syncOutcomeOf(result.error),
      statusCode: result.statusCode,
      body: result.body,
      durationMs: result.durationMs,
    };
    await publishSyncOutcome(this.context.redis, this.context.keys, delivery.eventId, outcome);
  }
}
