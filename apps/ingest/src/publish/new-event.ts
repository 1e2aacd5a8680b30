import type { EventStore, NewEvent } from "@hookbus/core/store";
import type { EventPlacement } from "./known-projects.js";
import { DEFAULT_PROJECT_ID, type PublishBody } from "@hookbus/schemas";

/** An event to store whose id is chosen already: a sync publish listens on it before storing. */
export type IdentifiedEvent = NewEvent & { id: string };

/**
 * A publish body as the event to store, with its id (which names its partition) chosen now by
 * the store it goes to.
 * @param placement the project it is published in (publishProject; the default one is left unnamed, as before projects), and its retention
 * @param unkeyedPartition where it goes if it has no key (see EventStore.newEventId)
 */
export function newEvent(
  events: Pick<EventStore, "newEventId">,
  body: PublishBody,
  publisher: string,
  started: number,
  { projectId, retentionMs }: EventPlacement,
  unkeyedPartition?: number,
): IdentifiedEvent {
  const event: NewEvent = {
    projectId: projectId === DEFAULT_PROJECT_ID ? undefined : projectId,
    type: body.type,
    data: body.data,
    idempotencyKey: body.id,
    idempotencyScope: publisher,
    occurredAt: body.occurredAt ? Date.parse(body.occurredAt) : undefined,
    orderingKey: body.orderingKey,
    retentionMs,
  };
  return { ...event, id: events.newEventId(event, started, unkeyedPartition) };
}
