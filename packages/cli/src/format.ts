import Table from "cli-table3";
import type {
  AttemptView as Attempt,
  AuditEntry,
  DeliveryView as Delivery,
  DeliveryWithAttempts,
  ProjectKeyView as ProjectKey,
  ProjectView as Project,
  ScheduleView as Schedule,
  ScheduleWithFires,
  SubscriptionView as Subscription,
} from "@hookbus/schemas";

type Cell = string | number | undefined;

/**
 * A plain table: no colours, so it reads the same in a terminal, a pipe or a log; compact
 * (no line between rows) so a list of hundreds stays readable. An empty head: no header row.
 */
export function table(head: string[], rows: Cell[][]): string {
  const rendered = new Table({ head, style: { head: [], border: [], compact: true } });
  for (const row of rows) rendered.push(row.map((cell) => (cell === undefined ? "" : String(cell))));
  return rendered.toString();
}

/** ISO 8601 to the second, in UTC: sortable, unambiguous, and short enough for a column. */
export function shortTime(iso: string | undefined): string | undefined {
  return iso?.replace(/\.\d+Z$/, "Z");
}

/** Whole milliseconds: the API measures to a tenth, more than a person reading needs. */
export function wholeMs(durationMs: number): number {
  return Math.round(durationMs);
}

/** The start of a response body on one line, for a table cell. */
export function excerpt(text: string | undefined, maxChars = 60): string | undefined {
  if (text === undefined) return undefined;
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > maxChars ? `${oneLine.slice(0, maxChars - 1)}…` : oneLine;
}

export function deliveriesTable(deliveries: Delivery[]): string {
  return table(
    ["id", "status", "event type", "subscription", "attempts", "created", "next attempt"],
    deliveries.map((d) => [
      d.id,
      d.status,
      d.eventType,
      d.subscriptionId,
      d.attemptCount,
      shortTime(d.createdAt),
      shortTime(d.nextAttemptAt),
    ]),
  );
}

/** One delivery as name/value rows. */
export function deliveryDetails(delivery: DeliveryWithAttempts): string {
  return table(
    [],
    [
      ["id", delivery.id],
      ["status", delivery.status],
      ["event", delivery.eventId],
      ["event type", delivery.eventType],
      ["subscription", delivery.subscriptionId],
      ["created", shortTime(delivery.createdAt)],
      ["attempts", delivery.attemptCount],
      ["last attempt", shortTime(delivery.lastAttemptAt)],
      ["next attempt", shortTime(delivery.nextAttemptAt)],
    ],
  );
}

export function attemptsTable(attempts: Attempt[]): string {
  return table(
    ["at", "status code", "error", "duration ms", "body excerpt"],
    attempts.map((a) => [shortTime(a.at), a.statusCode, attemptError(a), wholeMs(a.durationMs), excerpt(a.responseBody)]),
  );
}

function attemptError(attempt: Attempt): string | undefined {
  if (!attempt.error) return undefined;
  return attempt.message ? `${attempt.error}: ${attempt.message}` : attempt.error;
}

export function subscriptionsTable(subscriptions: Subscription[]): string {
  return table(
    ["id", "url", "event types", "mode", "environment", "enabled", "description"],
    subscriptions.map((s) => [s.id, s.url, s.eventTypes.join(", "), s.mode, s.environment, s.enabled ? "yes" : "no", s.description]),
  );
}

export function projectsTable(projects: Project[]): string {
  return table(
    ["id", "name", "retry schedule (ms)", "created"],
    projects.map((p) => [p.id, p.name, p.retrySchedule?.join(", "), shortTime(p.createdAt)]),
  );
}

export function keysTable(keys: ProjectKey[]): string {
  return table(
    ["id", "name", "role", "created", "last used"],
    keys.map((k) => [k.id, k.name, k.role, shortTime(k.createdAt), shortTime(k.lastUsedAt)]),
  );
}

export function auditTable(entries: AuditEntry[]): string {
  return table(
    ["time", "actor", "action", "resource", "changes", "outcome"],
    entries.map((e) => [shortTime(e.time), actorOf(e), e.action, e.resourceId, changes(e), e.outcome]),
  );
}

/** One entry on one line, for --follow. */
export function auditLine(entry: AuditEntry): string {
  return [shortTime(entry.time), actorOf(entry), entry.action, entry.resourceId, changes(entry), entry.outcome].join("  ");
}

function actorOf({ actor }: AuditEntry): string {
  const who = actor.name ? `${actor.name} (${actor.keyId})` : actor.keyId;
  return actor.reason ? `${who}: ${actor.reason}` : who;
}

/** Each field as `field: old -> new`, or its value alone when the entry has one side only. */
function changes({ before = {}, after = {} }: AuditEntry): string | undefined {
  const value = (v: unknown) => excerpt(JSON.stringify(v ?? null), 40);
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const shown = fields.map((field) =>
    field in before && field in after
      ? `${field}: ${value(before[field])} -> ${value(after[field])}`
      : `${field}: ${value(before[field] ?? after[field])}`,
  );
  return excerpt(shown.join("; "), 120);
}

/** How a schedule is timed, in a few words: its cron and zone, its period, or its one time. */
export function scheduleTiming(schedule: Schedule): string {
  if (schedule.cron) return `cron ${schedule.cron} (${schedule.timezone ?? "UTC"})`;
  if (schedule.every !== undefined) return `every ${wholeMs(schedule.every)} ms`;
  return `at ${shortTime(schedule.at)}`;
}

export function schedulesTable(schedules: Schedule[]): string {
  return table(
    ["id", "name", "participant", "timing", "status", "next fire", "last fired", "fires"],
    schedules.map((s) => [
      s.id,
      s.name,
      s.data.participantIdentifier,
      scheduleTiming(s),
      s.status,
      shortTime(s.nextFireAt ?? undefined),
      shortTime(s.lastFiredAt ?? undefined),
      s.fires,
    ]),
  );
}

/** A schedule, then its latest fires with the events they published. */
export function scheduleDetails(schedule: ScheduleWithFires): string {
  const head = table(
    [],
    [
      ["id", schedule.id],
      ["name", schedule.name],
      ["project", schedule.projectId],
      ["participant", `${schedule.data.participantIdentifier} (${schedule.data.participantId})`],
      ["timing", scheduleTiming(schedule)],
      ["catch up", schedule.catchUp],
      ["status", schedule.status],
      ["next fire", shortTime(schedule.nextFireAt ?? undefined)],
      ["fires", schedule.fires],
    ],
  );
  if (schedule.recentFires.length === 0) return head;
  const fires = table(
    ["planned", "fired", "event"],
    schedule.recentFires.map((f) => [shortTime(f.plannedAt), shortTime(f.firedAt), f.eventId]),
  );
  return `${head}\n${fires}`;
}
