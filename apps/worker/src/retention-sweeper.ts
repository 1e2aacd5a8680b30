import type { HookbusContext, Logger } from "@hookbus/core";

export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/**
 * Keeps the delivery log's indexes in step with retention: events, deliveries and attempts
 * expire in Redis by themselves, and this drops the index entries that pointed at them, so a
 * listing never returns an id whose record is gone. Several workers sweeping at once is harmless.
 */
export function startRetentionSweeper(context: HookbusContext, logger: Logger, intervalMs = DEFAULT_SWEEP_INTERVAL_MS) {
  let running: Promise<void> | undefined;
  const sweep = async () => {
    const removed = await context.deliveries.sweepExpired(await context.subscriptions.allIds());
    if (removed > 0) logger.info({ removed }, "expired deliveries dropped from the indexes");
  };
  const timer = setInterval(() => {
    running ??= sweep()
      .catch((error: unknown) => logger.warn({ err: error }, "retention sweep failed"))
      .finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
