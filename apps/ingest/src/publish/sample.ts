import type { EventRecord, Subscription } from "@hookbus/core/policy";
import type { SyncOutcomeListener } from "@hookbus/core/store";
import type { HookbusContext } from "@hookbus/core/runtime";
import type { EventType, SyncResult } from "@hookbus/schemas";
import { SYNC_REPORT_GRACE_MS, type SyncPublisher } from "./sync-publish.js";

/**
 * Sends a sample of an event type to one subscription, whatever its environment, and waits
 * for the first attempt like a sync publish. The sample is stored and logged like any event,
 * and is never routed to other subscriptions.
 */
export async function sendSample(
  context: HookbusContext,
  syncOutcomes: SyncOutcomeListener,
  sync: SyncPublisher,
  subscription: Subscription,
  type: EventType,
  data: Record<string, unknown>,
  started = Date.now(),
): Promise<{ event: EventRecord; result: SyncResult }> {
  const deadline = started + subscription.timeoutMs + SYNC_REPORT_GRACE_MS;
  const candidate: EventRecord = {
    id: context.events.newEventId({}, started),
    projectId: subscription.projectId,
    type,
    data,
    occurredAt: started,
    createdAt: started,
    sample: true,
  };
  syncOutcomes.listen(candidate.id, [subscription.id]);
  try {
    const { event } = await context.events.store(candidate);
    const [result] = await sync.routeAndWait(event, [subscription], [subscription], started, deadline, { reportAll: true });
    return { event, result: result! };
  } finally {
    syncOutcomes.stop(candidate.id);
  }
}
