import { projectOf, type Attempt, type Delivery, type EventRecord, type Subscription } from "@hookbus/core/policy";
import type { ErasureReceipt, ReplayProgress } from "@hookbus/core/flows";
import { Timetable } from "@hookbus/core/policy";
import {
  type EndpointHealth,
  type Project,
  type ProjectKey,
  type Schedule,
  type ScheduleFire,
  type ScheduleState,
  type SubscriptionStats,
} from "@hookbus/core/store";
import type {
  AttemptView,
  DeliveryView,
  ErasureView,
  EventView,
  ProjectKeyView,
  ProjectView,
  ReplayView,
  ScheduleFireView,
  ScheduleView,
  SubscriptionStatsView,
  SubscriptionView,
} from "@hookbus/schemas";
import { settingsView } from "@hookbus/schemas";

// The API's answers, built field by field from the records and checked against the contract's
// types, so an internal field (a secret, a counter) cannot leak into a response.

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * A subscription's settings as the API shows them: never its secrets, its Basic auth password,
 * nor its header values (the field table says how each setting shows).
 */
export function subscriptionSettings(subscription: Subscription): Omit<SubscriptionView, "health"> {
  const s = subscription;
  return { id: s.id, projectId: projectOf(s), ...settingsView(s), createdAt: iso(s.createdAt)!, updatedAt: iso(s.updatedAt)! };
}

/** A subscription as the API shows it, with its endpoint's health. */
export function subscriptionView(subscription: Subscription, health: EndpointHealth): SubscriptionView {
  return {
    ...subscriptionSettings(subscription),
    health: {
      circuit: health.circuit,
      consecutiveFailures: health.consecutiveFailures,
      openUntil: iso(health.openUntil),
      unreadable: subscription.unreadable,
    },
  };
}

export function eventView(event: EventRecord, deliveries: Delivery[]): EventView {
  return {
    id: event.id,
    projectId: projectOf(event),
    type: event.type,
    data: event.data,
    orderingKey: event.orderingKey,
    occurredAt: iso(event.occurredAt)!,
    createdAt: iso(event.createdAt)!,
    deliveries: deliveries.map((d) => ({ id: d.id, subscriptionId: d.subscriptionId, status: d.status, attemptCount: d.attemptCount })),
  };
}

export function deliveryView(delivery: Delivery): DeliveryView {
  return {
    id: delivery.id,
    projectId: projectOf(delivery),
    eventId: delivery.eventId,
    subscriptionId: delivery.subscriptionId,
    eventType: delivery.eventType,
    status: delivery.status,
    createdAt: iso(delivery.createdAt)!,
    attemptCount: delivery.attemptCount,
    nextAttemptAt: iso(delivery.nextAttemptAt),
    lastAttemptAt: iso(delivery.lastAttemptAt),
    replays: delivery.replays,
    replayId: delivery.replayId,
    failureReason: delivery.failureReason,
  };
}

export function attemptView(attempt: Attempt): AttemptView {
  return {
    at: iso(attempt.at)!,
    statusCode: attempt.statusCode,
    error: attempt.error,
    message: attempt.message,
    durationMs: attempt.durationMs,
    responseBody: attempt.responseBody,
  };
}

export function subscriptionStatsView(subscriptionId: string, stats: SubscriptionStats): SubscriptionStatsView {
  return {
    subscriptionId,
    pending: stats.pending,
    retrying: stats.retrying,
    delivered: stats.delivered,
    failed: stats.failed,
    lastSuccessAt: iso(stats.lastSuccessAt),
    lastFailureAt: iso(stats.lastFailureAt),
  };
}

export function replayView(replay: ReplayProgress): ReplayView {
  const { since, until, ...filter } = replay.filter;
  return {
    id: replay.id,
    status: replay.status,
    total: replay.total,
    done: replay.done,
    failed: replay.failed,
    skipped: replay.skipped,
    filter: { ...filter, since: iso(since), until: iso(until) },
    ratePerSecond: replay.ratePerSecond,
    createdAt: iso(replay.createdAt)!,
    finishedAt: iso(replay.finishedAt),
  };
}

export function erasureView(receipt: ErasureReceipt): ErasureView {
  return {
    id: receipt.id,
    status: receipt.status,
    field: receipt.field,
    projectId: receipt.projectId,
    createdAt: iso(receipt.createdAt)!,
    finishedAt: iso(receipt.finishedAt),
    total: receipt.total,
    events: receipt.events,
    deliveries: receipt.deliveries,
    attempts: receipt.attempts,
    persistence: {
      status: receipt.persistence.status,
      finishedAt: iso(receipt.persistence.finishedAt),
      message: receipt.persistence.message,
    },
  };
}

export function projectView(project: Project): ProjectView {
  return {
    id: project.id,
    name: project.name,
    retrySchedule: project.retrySchedule,
    retention: project.retention,
    createdAt: iso(project.createdAt)!,
    updatedAt: iso(project.updatedAt)!,
  };
}

/** A project key as listed: never the key, nor its digest. */
export function projectKeyView(key: ProjectKey): ProjectKeyView {
  return {
    id: key.id,
    projectId: key.projectId,
    name: key.name,
    role: key.role,
    createdAt: iso(key.createdAt)!,
    lastUsedAt: iso(key.lastUsedAt),
  };
}

/** A schedule as the API shows it: its definition, whether it fires, and when it fired and fires next. */
export function scheduleView(schedule: Schedule, state: ScheduleState, now = Date.now()): ScheduleView {
  const status = schedule.paused ? "paused" : schedule.endedAt !== undefined ? "ended" : "active";
  const next = status === "active" ? new Timetable(schedule).nextAfter(Math.max(now, state.through)) : undefined;
  return {
    id: schedule.id,
    projectId: projectOf(schedule),
    name: schedule.name,
    data: schedule.data,
    cron: schedule.cron,
    timezone: schedule.timezone,
    every: schedule.every,
    at: iso(schedule.at),
    startAt: iso(schedule.startAt),
    endAt: iso(schedule.endAt),
    limit: schedule.limit,
    catchUp: schedule.catchUp,
    status,
    fires: state.fires,
    nextFireAt: iso(next) ?? null,
    lastFiredAt: iso(state.lastFiredAt) ?? null,
    createdAt: iso(schedule.createdAt)!,
    updatedAt: iso(schedule.updatedAt)!,
  };
}

export function scheduleFireView(fire: ScheduleFire): ScheduleFireView {
  return { eventId: fire.eventId, plannedAt: iso(fire.plannedAt)!, firedAt: iso(fire.firedAt)! };
}
