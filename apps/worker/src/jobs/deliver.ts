import { DelayedError, type Job } from "bullmq";
import { deliveriesWait, isSettled } from "@hookbus/core/policy";
import { loadAttemptInputs } from "@hookbus/core/store";
import { deliverJobId, runsAgain, type DeliverJobData } from "@hookbus/core/queue";
import type { HookbusContext } from "@hookbus/core/runtime";
import type { DeliveryAttempt } from "../delivery/attempt.js";

/**
 * How often one run loads its delivery again after the gate found it moved on since it was
 * loaded: each look finds it finished, due later, or attemptable, so a second look settles it
 * unless another process keeps attempting it in between, which the third ends.
 */
const LOOKS = 3;

/**
 * The deliver job: one attempt per run, for retries, replays, sync deliveries and the part
 * of a large fan-out the route job leaves to it. A delivery that must run again (a retry, or a
 * wait for its endpoint) goes back to the delayed set under the same job, spending no worker
 * while it waits. The delivery log decides, not the job: a job that is not its delivery's
 * current run, or that wakes before the delivery is due, does not attempt it.
 */
export class DeliverJob {
  constructor(
    private readonly context: HookbusContext,
    private readonly attempts: DeliveryAttempt,
  ) {}

  async process(job: Job<DeliverJobData>, token?: string): Promise<void> {
    for (let look = 0; look < LOOKS; look++) {
      const { delivery, subscription, event } = await loadAttemptInputs(this.context, job.data);
      // Expired past retention, or erased (its event went with it: it is not undeliverable, it is gone).
      if (!delivery || delivery.status === "erased") return;
      if (!subscription || !event) return this.attempts.deadLetterUndeliverable(delivery, job.data.replayId);
      // Another job already finished it, or a replay started a run with a job of its own: this one is a stale duplicate.
      // Run again after a run that died or failed, which finished the delivery and may have been going on with its lane: it goes on.
      if (isSettled(delivery.status) && runsAgain(job)) return this.attempts.resumeLane(delivery, subscription);
      if (isSettled(delivery.status) || job.id !== deliverJobId(delivery)) return;
      // Kept as it is while its subscription is disabled (enabling resumes it) or unreadable (the reconciler resumes it).
      if (deliveriesWait(subscription)) return;
      // Woken early (a job put back by the reconciler, or one that waited on another process's
      // attempt of it): the retry schedule and Retry-After still hold.
      if (delivery.nextAttemptAt !== undefined && delivery.nextAttemptAt > Date.now())
        return this.sleepUntil(job, delivery.nextAttemptAt, token);

      const parked = { queue: job.queueName, jobId: job.id!, deliveryId: delivery.id };
      const end = await this.attempts.run({ delivery, subscription, event, job: parked, data: job.data });
      if (end.kind === "finished") return;
      if (end.kind === "again") {
        await job.moveToDelayed(end.at, token);
        await this.attempts.wakeIfReadyMeanwhile(end, delivery, parked);
        throw new DelayedError();
      }
    }
  }

  private async sleepUntil(job: Job<DeliverJobData>, at: number, token?: string): Promise<never> {
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }
}
