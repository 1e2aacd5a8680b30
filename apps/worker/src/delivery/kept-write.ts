import pRetry from "p-retry";
import { isRedisFailure, type RedisConnection } from "@hookbus/core/store";
import type { Logger } from "@hookbus/core/runtime";

/**
 * How long a write that follows a send is tried again while Redis refuses it: about half a
 * minute (0.1 s doubling to 2 s between tries), longer than a failover or a slot's move
 * between cluster masters usually takes.
 */
const KEPT_WRITE_RETRIES = { retries: 20, factor: 2, minTimeout: 100, maxTimeout: 2_000 };

/**
 * Runs a write that must not be lost because a request already went out on the strength of it
 * (an attempt's record, the release of its slot, its report to a sync publisher): while Redis
 * refuses it (a master failing over, a slot moving, memory full), it is tried again rather
 * than thrown. Thrown, the attempt would stay unrecorded and its claim held until its lease
 * lapsed, and then be sent again. Each write is retried on its own, so one that went through
 * is never applied twice. The first try runs at once (within a `sendTogether`).
 */
export function keptWrite<T>(redis: RedisConnection, write: () => Promise<T>, what: string, logger: Logger): Promise<T> {
  // A connection closed for good (the process stopping) takes no write however long it is asked.
  const worthRetrying = (error: unknown) => isRedisFailure(error) && redis.status !== "end";
  // Tried once as it is: the retries' bookkeeping is only made for a write that failed (one per attempt's write, several an attempt).
  return write().catch((error: unknown) => {
    if (!worthRetrying(error)) throw error;
    logger.warn({ err: error, what }, "redis refused a write after a send: trying it again");
    return pRetry(write, { ...KEPT_WRITE_RETRIES, shouldRetry: worthRetrying });
  });
}
