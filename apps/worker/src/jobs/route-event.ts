import type { Job } from "bullmq";
import { NotFoundError, routeEvent, type HookbusContext, type Logger, type RouteJobData } from "@hookbus/core";

/**
 * The route job: finds the subscriptions an event reaches (through the event-type index, so
 * the cost follows the subscriptions to its type, not all of them), makes one delivery each
 * and enqueues their first attempts, then notes the event routed. Running twice creates
 * nothing twice: deliveries are keyed by (event, subscription) and jobs by delivery id.
 */
export class RouteEventJob {
  constructor(
    private readonly context: HookbusContext,
    private readonly logger: Logger,
  ) {}

  async process(job: Job<RouteJobData>): Promise<void> {
    const event = await this.context.events.get(job.data.eventId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    // A sample is delivered only to the subscription it was sent to, by the ingest itself.
    if (event && !event.sample) {
      const routed = await routeEvent(this.context, event, await this.context.subscriptions.forEventType(event.type));
      this.logger.debug({ eventId: event.id, deliveries: routed.length }, "event routed");
    }
    await this.context.events.markRouted(job.data.eventId);
  }
}
