import type { Job } from "bullmq";
import {
  enqueueFirstAttempts,
  NotFoundError,
  subscriptionMatches,
  type HookbusContext,
  type Logger,
  type RouteJobData,
} from "@hookbus/core";

/**
 * Routes one event: finds the live subscriptions it matches (through the event-type index,
 * so the cost follows the matching subscriptions, not all of them), makes one delivery each,
 * and enqueues the first attempt of each. Running twice creates nothing twice: deliveries
 * are keyed by (event, subscription) and jobs by delivery id.
 */
export class RouteProcessor {
  constructor(
    private readonly context: HookbusContext,
    private readonly logger: Logger,
  ) {}

  async process(job: Job<RouteJobData>): Promise<void> {
    const event = await this.context.events.get(job.data.eventId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (!event) return;
    const candidates = await this.context.subscriptions.forEventType(event.type);
    const routed = await this.context.deliveries.route(event, candidates.filter((s) => subscriptionMatches(s, event)));
    await enqueueFirstAttempts(this.context.queues, event.id, routed);
    this.logger.debug({ eventId: event.id, deliveries: routed.length }, "event routed");
  }
}
