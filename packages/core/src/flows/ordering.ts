import type { EventRecord } from "../policy/domain.js";
import { wakeDeliverJob } from "../queue/queues.js";
import type { LaneMember } from "../store/lanes.js";
import type { HookbusContext } from "../runtime/context.js";

/**
 * Wakes deliveries whose turn in their lane came (the one before them finished, or an earlier
 * event of their key was routed): each looks at its lane when its job runs. A delivery in a
 * lane has never been replayed (a replay runs out of its lane), so its job is its first run's.
 */
export async function wakeInLane(context: Pick<HookbusContext, "queues">, members: (LaneMember | undefined)[]): Promise<void> {
  await Promise.all(
    members.flatMap((member) =>
      member
        ? [wakeDeliverJob(context.queues, { id: member.deliveryId, eventId: member.eventId, subscriptionId: member.subscriptionId })]
        : [],
    ),
  );
}

/** Notes that routing put these events' deliveries in their lanes, and wakes the deliveries that waited on them. */
export async function releaseRoutedInOrder(
  context: Pick<HookbusContext, "queues" | "lanes">,
  events: Pick<EventRecord, "id" | "projectId" | "orderingKey">[],
): Promise<void> {
  await wakeInLane(context, await context.lanes.routed(events));
}
