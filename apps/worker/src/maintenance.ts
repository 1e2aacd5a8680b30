import { restoreLostTimers } from "@hookbus/core/flows";
import type { HookbusContext, Logger } from "@hookbus/core/runtime";
import { recoverUnenqueuedClaims } from "./jobs/bulk-replay.js";
import { reconcile } from "./jobs/reconcile.js";

export interface MaintenanceOptions {
  /** How often the tasks run (default 60 s). */
  intervalMs?: number;
  /** How old a replay claim without a job must be before it is taken as orphaned (default 60 s). */
  orphanedClaimAfterMs?: number;
}

const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_ORPHANED_CLAIM_AFTER_MS = 60_000;

/**
 * Periodic upkeep, every worker doing it (each task is safe to run in several at once):
 * - reconciling: a delivery or event left without its job gets one back (jobs/reconcile.ts);
 * - retention: events, deliveries and attempts expire in Redis by themselves; this drops the
 *   index entries that pointed at them, so a listing never returns an id whose record is gone;
 * - replay recovery: a delivery claimed by a replayer that died before enqueueing its job is
 *   enqueued, so a crash in the middle of a replay loses nothing;
 * - schedules: one whose timer was lost gets it back (flows/schedule-lifecycle.ts).
 */
export function startMaintenance(context: HookbusContext, logger: Logger, options: MaintenanceOptions = {}) {
  const orphanedAfter = options.orphanedClaimAfterMs ?? DEFAULT_ORPHANED_CLAIM_AFTER_MS;
  const runTasks = async () => {
    const { requeued, rerouted, expired } = await reconcile(context);
    if (requeued + rerouted > 0) logger.warn({ requeued, rerouted }, "jobs put back for deliveries and events that had none");
    if (expired > 0) logger.warn({ expired }, "deliveries dead-lettered: not attempted before their retention ran out");
    const removed = await context.deliveries.sweepExpired(await context.subscriptions.allIds());
    if (removed > 0) logger.info({ removed }, "expired deliveries dropped from the indexes");
    const recovered = await recoverUnenqueuedClaims(context, orphanedAfter);
    if (recovered > 0) logger.warn({ recovered }, "replayed deliveries whose replayer stopped before enqueueing them");
    await context.subscriptions.raiseVersionCopies();
    const moved = await context.events.legacyKeys.moveAll();
    if (moved > 0) logger.info({ moved }, "idempotency keys stored before partitions copied to their partitions");
    const timersRestored = await restoreLostTimers(context);
    if (timersRestored > 0)
      logger.warn({ schedules: timersRestored }, "schedules whose timer was lost: set again, and woken to make up what they missed");
  };
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= runTasks()
      .catch((error: unknown) => logger.warn({ err: error }, "maintenance failed"))
      .finally(() => (running = undefined));
  }, options.intervalMs ?? DEFAULT_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
