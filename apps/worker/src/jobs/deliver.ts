import { DelayedError, type Job } from "bullmq";
import { deliveriesWait } from "@hookbus/core/policy";
import { loadAttemptInputs } from "@hookbus/core/store";
import type { DeliverJobData } from "@hookbus/core/queue";
import type { HookbusContext } from "@hookbus/core/runtime";
import type { DeliveryAttempt } from "../delivery/attempt.js";

/**
 * The deliver job: one attempt per run, for retries, replays, sync deliveries and the part
 * of a large fan-out the route job leaves to it. A delivery that must run again (a retry, or a
 * wait for its endpoint) goes back to the delayed set under the same job, spending no worker
 * while it waits.
 */
export class DeliverJob {
  constructor(
    private readonly context: HookbusContext,
    private readonly attempts: DeliveryAttempt,
  ) {}

  async process(job: Job<DeliverJobData>, token?: string): Promise<void> {
    const { delivery, subscription, event } = await loadAttemptInputs(this.context, job.data);
    if (!delivery) return; // expired past retention
    if (!subscription || !event) return this.attempts.deadLetterUndeliverable(delivery, job.data.replayId);
    // Another job already finished it: this one is a stale duplicate (the reconciler's, say).
    if (delivery.status === "delivered" || delivery.status === "failed") return;
    // Kept as it is while its subscription is disabled (enabling resumes it) or unreadable (the reconciler resumes it).
    if (deliveriesWait(subscription)) return;

    const end = await this.attempts.run({
      delivery,
      subscription,
      event,
      job: { queue: job.queueName, jobId: job.id!, deliveryId: delivery.id },
      data: job.data,
    });
    if (end.finished) return;
    await job.moveToDelayed(end.at, token);
    await this.attempts.wakeIfHandedASlot(end, delivery, job);
    throw new DelayedError();
  }
}
