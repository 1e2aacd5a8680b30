import { UnavailableError } from "../policy/errors.js";
import { partitionOfId } from "../policy/ids.js";
import { pipelineForJobs, queueRouteJobs, ROUTE_JOB_DELIVERIES, type HookbusQueues } from "../queue/queues.js";
import type { EventStore, NewEvent, StoredEvent } from "../store/event-store.js";
import type { SubscriptionCache } from "../store/subscription-cache.js";

/** An event to store, with its id chosen already (the route job is named after it) and its publish's deadline. */
export type Candidate = NewEvent & { id: string; deadline: number };

interface Waiting {
  candidates: Candidate[];
  resolve: (results: (StoredEvent | Error)[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Stores the events of every publish made in one turn of the event loop together: one Redis
 * round trip for all their stores and route jobs, and route jobs that carry several events
 * each, so the worker takes one job for many events. Under load, concurrent publishes arrive
 * in the same turn; a publish alone waits for nothing, since the turn ends at once. Each
 * event keeps its own idempotency key and deadline, and its own outcome. The ingest's
 * publishes and the worker's schedule fires are stored through it alike.
 */
export class StoreCoalescer {
  private waiting: Waiting[] = [];

  constructor(
    private readonly context: { events: EventStore; queues: HookbusQueues },
    private readonly subscriptions: SubscriptionCache,
  ) {}

  /**
   * Stores these events (in the next round trip) and enqueues their route jobs with them; one
   * outcome per event, in order, from its own store's reply (see EventStore.storeMany).
   */
  store(candidates: Candidate[]): Promise<(StoredEvent | Error)[]> {
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => void this.flush());
      this.waiting.push({ candidates, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const waiting = this.waiting;
    this.waiting = [];
    try {
      const candidates = waiting.flatMap((w) => w.candidates);
      const groups = await this.groupForRouteJobs(candidates);
      const results = await this.context.events.storeMany(candidates, Date.now(), {
        alongside: {
          pipelineFor: (partition) => pipelineForJobs(this.context.queues, partition),
          add: (_, pipeline, partition) =>
            queueRouteJobs(
              pipeline,
              this.context.queues,
              groups.filter((group) => partitionOfId(group[0]!) === partition),
            ),
        },
      });
      let next = 0;
      for (const w of waiting) w.resolve(results.slice(next, (next += w.candidates.length)));
    } catch (error) {
      // Nothing was sent (the connection is not there to make the pipeline on).
      const unavailable = new UnavailableError(`Redis could not be reached (${(error as Error).message}); publish again with the same id`, {
        cause: error,
      });
      for (const w of waiting) w.reject(unavailable);
    }
  }

  /**
   * Groups the events, in order, into route jobs of about ROUTE_JOB_DELIVERIES deliveries
   * (counted from the subscriptions to each type, as a guide: filters may match fewer), each of
   * one partition's events (its queue's, beside them), and notes on each event the job that
   * carries it, named after the group's first event.
   */
  private async groupForRouteJobs(candidates: Candidate[]): Promise<string[][]> {
    // Only a guide: a type whose subscriptions cannot be read now counts as one delivery an
    // event, rather than failing the other events of this turn.
    const fanOutOf = (candidate: Candidate) => `${candidate.projectId ?? ""} ${candidate.type}`;
    const distinct = [...new Map(candidates.map((c) => [fanOutOf(c), c])).entries()];
    const fanOut = new Map<string, number>(
      await Promise.all(
        distinct.map(
          async ([key, candidate]) =>
            [
              key,
              await this.subscriptions.forEventType(candidate).then(
                (s) => s.length,
                () => 1,
              ),
            ] as const,
        ),
      ),
    );
    const groups: string[][] = [];
    const filling = new Map<number, { group: string[]; deliveries: number }>();
    for (const candidate of candidates) {
      const weight = Math.max(1, fanOut.get(fanOutOf(candidate)) ?? 0);
      const partition = partitionOfId(candidate.id);
      let open = filling.get(partition);
      if (!open || open.deliveries + weight > ROUTE_JOB_DELIVERIES) {
        open = { group: [], deliveries: 0 };
        filling.set(partition, open);
        groups.push(open.group);
      }
      if (open.group.length > 0) candidate.routeJobId = open.group[0];
      open.group.push(candidate.id);
      open.deliveries += weight;
    }
    return groups;
  }
}
