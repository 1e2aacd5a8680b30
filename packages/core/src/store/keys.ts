import { DEFAULT_PROJECT_ID } from "@hookbus/schemas";
import type { DeliveryStatus } from "../policy/domain.js";
import { partitionOfId } from "../policy/ids.js";
import { partitionOfKey, partitionPrefixes, prefixTagged } from "../policy/partitions.js";

/**
 * Every Redis key Hookbus writes outside BullMQ. What is small and shared (subscriptions and
 * their endpoints' gates, projects, keys, replays, erasures, schedules, the audit trail) starts
 * with the queue prefix. An event and what belongs to it (its deliveries, their attempts and
 * claims, its idempotency record, the indexes they are listed and watched in, its ordering
 * key's lanes) start with its partition's prefix, whose `{hash tag}` keeps them in one Redis
 * Cluster slot with the partition's queues, so that scripts may touch several of them.
 * Partition 0's prefix is the queue prefix itself, where an earlier version kept everything.
 * Keys of an event or delivery find its partition from its id (see newId); an ordering key's
 * from the key.
 */
export class Keys {
  /** The prefix of each partition, by number. */
  readonly partitionPrefixes: string[];

  constructor(
    readonly prefix: string,
    readonly partitionCount = 1,
  ) {
    this.partitionPrefixes = partitionPrefixes(prefix, partitionCount);
  }

  /** Every partition's number. */
  partitions(): number[] {
    return this.partitionPrefixes.map((_, partition) => partition);
  }
  /** The partition of an ordering key: where its events, and its lanes, are stored. */
  partitionOfOrderingKey(key: string): number {
    return partitionOfKey(key, this.partitionCount);
  }
  /**
   * Where an endpoint's gate (its slots, circuit, rate limit, last outcomes) is kept: with one
   * partition, under the prefix, as an earlier version kept it; with several, under a tag of
   * its own, so that the gates of many endpoints spread over a cluster's masters as the
   * partitions do. What a gate holds is short-lived: moving to several partitions starts each
   * afresh (circuits closed, no slot taken).
   */
  private endpoint(subscriptionId: string): string {
    return this.partitionCount === 1 ? this.prefix : prefixTagged(this.prefix, subscriptionId);
  }
  private in(partition: number): string {
    return this.partitionPrefixes[partition] ?? this.partitionPrefixes[0]!;
  }
  private of(id: string): string {
    return this.in(partitionOfId(id));
  }

  subscription(id: string) {
    return `${this.prefix}:sub:${id}`;
  }
  /** Ids of every subscription, for listing. */
  subscriptions() {
    return `${this.prefix}:subs`;
  }
  /**
   * Ids of one project's subscriptions to one event type: what routing reads. The default
   * project's keep the key they had before projects, so that index needs no migration.
   */
  subscriptionsByType(type: string, projectId: string) {
    return projectId === DEFAULT_PROJECT_ID ? `${this.prefix}:subs:type:${type}` : `${this.prefix}:subs:prj:${projectId}:type:${type}`;
  }
  /** The most partitions events have been stored in here (see checkPartitions). */
  partitionCountNote() {
    return `${this.prefix}:partitions:count`;
  }
  /** Set once the idempotency keys stored before partitions have been moved to their partitions (see LegacyIdempotencyKeys). */
  legacyIdempotencyMoved() {
    return `${this.prefix}:partitions:idem-moved`;
  }
  /**
   * Counts every subscription change: a cache loaded at an older count is stale. Each other
   * partition holds a copy, raised to it after every change, for the scripts there that check it.
   */
  subscriptionsVersion(partition = 0) {
    return `${this.in(partition)}:subs:version`;
  }

  event(id: string) {
    return `${this.eventKeyPrefix(partitionOfId(id))}${id}`;
  }
  /** What `event` names start with in a partition: for scripts that name the events they read. */
  eventKeyPrefix(partition: number) {
    return `${this.in(partition)}:evt:`;
  }
  /** subscriptionId -> deliveryId for one event: makes routing idempotent. */
  eventDeliveries(eventId: string) {
    return `${this.of(eventId)}:evt:${eventId}:dlv`;
  }
  /** An idempotency record, in the partition its key belongs to (see EventStore). */
  idempotency(key: string, partition: number) {
    return `${this.in(partition)}:idem:${key}`;
  }

  delivery(id: string) {
    return `${this.deliveryKeyPrefix(partitionOfId(id))}${id}`;
  }
  /** What `delivery` names start with in a partition: for scripts that name the deliveries they read. */
  deliveryKeyPrefix(partition: number) {
    return `${this.in(partition)}:dlv:`;
  }
  attempts(deliveryId: string) {
    return `${this.of(deliveryId)}:dlv:${deliveryId}:att`;
  }
  /** The claim of the attempt being made of a delivery: its owner, for as long as the attempt's lease. Beside the delivery, in its slot. */
  attemptClaim(deliveryId: string) {
    return `${this.of(deliveryId)}:dlv:${deliveryId}:claim`;
  }
  /** One partition's deliveries, by id; each index below is one partition's too. */
  deliveriesAll(partition: number) {
    return `${this.in(partition)}:dlvidx:all`;
  }
  deliveriesByStatus(status: DeliveryStatus, partition: number) {
    return `${this.in(partition)}:dlvidx:status:${status}`;
  }
  deliveriesBySubscription(subscriptionId: string, partition: number) {
    return `${this.in(partition)}:dlvidx:sub:${subscriptionId}`;
  }
  deliveriesByType(type: string, partition: number) {
    return `${this.in(partition)}:dlvidx:type:${type}`;
  }

  /**
   * Deliveries that should have a job, scored by when to make sure they still do: what the
   * reconciler reads to find a delivery left without one.
   */
  deliveriesToWatch(partition: number) {
    return `${this.in(partition)}:dlvidx:watch`;
  }
  /** Stored events not yet routed, scored by when to make sure a route job exists. */
  eventsToRoute(partition: number) {
    return `${this.in(partition)}:evtidx:unrouted`;
  }

  /** An endpoint's attempts in flight, the slots they hold: delivery id scored by when its lease expires. */
  endpointInFlight(subscriptionId: string) {
    return `${this.endpoint(subscriptionId)}:sub:${subscriptionId}:inflight`;
  }
  /** Slots handed to parked deliveries, not yet taken: delivery id scored by when the hand-over lapses. */
  endpointHanded(subscriptionId: string) {
    return `${this.endpoint(subscriptionId)}:sub:${subscriptionId}:handed`;
  }
  /**
   * Deliveries whose slot was released before the release that passed it on to them reached
   * the gate (that one was tried again after a failure): scored by when the note lapses.
   */
  endpointReleasedEarly(subscriptionId: string) {
    return `${this.endpoint(subscriptionId)}:sub:${subscriptionId}:released`;
  }
  /** Jobs waiting for a free slot at the endpoint, first come first served. */
  endpointParked(subscriptionId: string) {
    return `${this.endpoint(subscriptionId)}:sub:${subscriptionId}:parked`;
  }
  /** The endpoint's circuit: consecutive failures, when the run of failures began, open until when, the probe. */
  endpointHealth(subscriptionId: string) {
    return `${this.endpoint(subscriptionId)}:sub:${subscriptionId}:health`;
  }
  /** The endpoint's rate limit: the next free send time, and the send times reserved by waiting deliveries. */
  endpointRate(subscriptionId: string) {
    return `${this.endpoint(subscriptionId)}:sub:${subscriptionId}:rate`;
  }
  endpointRateReserved(subscriptionId: string) {
    return `${this.endpoint(subscriptionId)}:sub:${subscriptionId}:rate:reserved`;
  }

  /** When a subscription's deliveries last succeeded and failed. */
  subscriptionOutcomes(subscriptionId: string) {
    return `${this.endpoint(subscriptionId)}:sub:${subscriptionId}:outcomes`;
  }
  replay(id: string) {
    return `${this.prefix}:rpl:${id}`;
  }
  /** A rate-capped bulk replay's limiter, kept at the receivers (see EndpointGate). */
  replayRate(id: string) {
    return `${this.prefix}:rpl:${id}:rate`;
  }
  replayRateReserved(id: string) {
    return `${this.prefix}:rpl:${id}:rate:reserved`;
  }
  /** Replay claims whose job is not yet enqueued, scored by claim time: what recovery re-enqueues. Beside the claimed deliveries, in their partition. */
  replayClaimsNotEnqueued(partition: number) {
    return `${this.in(partition)}:rpl:unqueued`;
  }

  /**
   * The events of one participant value in one project in one partition: a set of event ids,
   * named by the field and the value's keyed hash (never the value), what an erasure reads
   * instead of scanning every event.
   */
  participantIndex(projectId: string, field: string, digest: string, partition: number) {
    return `${this.in(partition)}:pidx:${projectId}:${field}:${digest}`;
  }
  /** The project and field of a key `participantIndex` made in that partition (neither holds a colon); undefined for any other key. */
  participantIndexOf(key: string, partition: number): { projectId: string; field: string } | undefined {
    const head = `${this.in(partition)}:pidx:`;
    const [projectId, field, digest, ...rest] = key.startsWith(head) ? key.slice(head.length).split(":") : [];
    return projectId && field && digest && rest.length === 0 ? { projectId, field } : undefined;
  }
  /** When the participant index began (ms): events stored before it are not in it. */
  participantIndexSince() {
    return `${this.prefix}:pidx:since`;
  }
  /** Set once a scan found no event stored before the index: erasures need not scan again. */
  participantIndexComplete() {
    return `${this.prefix}:pidx:complete`;
  }
  /** An erasure's receipt, and its request (the value sealed) while it runs. */
  erasure(id: string) {
    return `${this.prefix}:era:${id}`;
  }

  /** Ids of every project, scored by creation time. */
  projects() {
    return `${this.prefix}:prjs`;
  }
  project(id: string) {
    return `${this.prefix}:prj:${id}`;
  }
  /** A project's API keys: key id -> the key's record (name, role, digest; never the key). */
  projectKeys(projectId: string) {
    return `${this.prefix}:prj:${projectId}:keys`;
  }
  /** When each of a project's keys was last used: key id -> ms. */
  projectKeysUsed(projectId: string) {
    return `${this.prefix}:prj:${projectId}:keys:used`;
  }
  /** What an API key may do, found by the key's SHA-256: what authentication reads. */
  apiKey(digest: string) {
    return `${this.prefix}:apikey:${digest}`;
  }

  /**
   * The audit trail: a stream of entries, each chained to the one before by its hash. Under the
   * same prefix as the rest, so one hash tag; when other data is partitioned it keeps its own slot.
   */
  auditEntries() {
    return `${this.prefix}:audit`;
  }
  /** The trail's head: the last entry's number, hash and time, and the anchor left by retention. */
  auditHead() {
    return `${this.prefix}:audit:head`;
  }

  /**
   * One ordering key of one project (events published with it): `seq` numbers its events in
   * publish order, `unrouted` holds those not yet routed (event id by number), `blocked` the
   * deliveries whose turn came but wait for an earlier event of the key to be routed.
   */
  orderingKey(projectId: string, key: string, part: "seq" | "unrouted" | "blocked", partition: number) {
    return `${this.in(partition)}:okey:${projectId}:${part}:${key}`;
  }
  /**
   * A lane: one ordered subscription's unfinished deliveries of one ordering key, by event
   * number; the first is the one that may try. In the partition of the key's events: the one
   * the key names (partitionOfOrderingKey), or 0 for events stored before partitions.
   */
  lane(subscriptionId: string, key: string, partition: number) {
    return `${this.in(partition)}:sub:${subscriptionId}:lane:${key}`;
  }

  /** A schedule's definition. */
  schedule(id: string) {
    return `${this.prefix}:sch:${id}`;
  }
  /** How far a schedule has fired: planned times handled through, fires made, the latest fire's planned time. */
  scheduleState(id: string) {
    return `${this.prefix}:sch:${id}:state`;
  }
  /** A schedule's latest fires, newest first. */
  scheduleFires(id: string) {
    return `${this.prefix}:sch:${id}:fires`;
  }
  /** Ids of every schedule, or of one project's, in creation order (ids sort by time): what listing pages through. */
  schedules(projectId?: string) {
    return projectId === undefined ? `${this.prefix}:schs` : `${this.prefix}:schs:prj:${projectId}`;
  }

  /** Pub/sub channel announcing that a subscription was created, changed or deleted. */
  subscriptionChanges() {
    return `${this.prefix}:subs:changed`;
  }

  /** Pub/sub channel where workers report awaited first attempts to the ingest process listening on it. */
  syncOutcomes(listenerId: string) {
    return `${this.prefix}:sync:${listenerId}`;
  }
}
