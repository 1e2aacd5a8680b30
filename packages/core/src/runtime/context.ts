import type { Redis, RedisOptions } from "ioredis";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { DeliveryLog } from "../store/delivery-log.js";
import { EndpointGate } from "../store/endpoint-gate.js";
import { EventStore } from "../store/event-store.js";
import { Keys } from "../store/keys.js";
import { ProjectStore } from "../store/project-store.js";
import { OutageLog } from "./outage-log.js";
import { createQueues, type HookbusQueues } from "../queue/queues.js";
import { createRedis } from "../store/redis.js";
import { Replayer } from "../flows/replay.js";
import { ScheduleStore } from "../store/schedule-store.js";
import { SubscriptionStore } from "../store/subscription-store.js";

/** The stores and queues both apps work with, on one Redis connection. */
export interface HookbusContext {
  config: Config;
  redis: Redis;
  keys: Keys;
  subscriptions: SubscriptionStore;
  projects: ProjectStore;
  schedules: ScheduleStore;
  events: EventStore;
  deliveries: DeliveryLog;
  endpoints: EndpointGate;
  queues: HookbusQueues;
  replays: Replayer;
  /** Where every connection of the app reports Redis errors, logged once an outage. */
  outages: OutageLog;
  close(): Promise<void>;
}

/** @param redisOptions for the shared connection, over createRedis's (the ingest's fails fast: FAIL_FAST) */
export function createContext(config: Config & { redisUrl: string }, logger: Logger, redisOptions: RedisOptions = {}): HookbusContext {
  const redis = createRedis(config.redisUrl, redisOptions);
  const outages = new OutageLog(logger);
  outages.watch(redis);
  const keys = new Keys(config.queuePrefix);
  const queues = createQueues(redis, config.queuePrefix, (error) => outages.error(error, "queue"));
  const subscriptions = new SubscriptionStore(redis, keys, config.encryption, (subscriptionId, reason) =>
    logger.error({ subscriptionId, reason }, "subscription unreadable: its deliveries wait until the key is back or it is deleted"),
  );
  const deliveries = new DeliveryLog(redis, keys, config.retentionMs, config.reconcileAfterMs);
  return {
    config,
    redis,
    keys,
    subscriptions,
    projects: new ProjectStore(redis, keys),
    schedules: new ScheduleStore(redis, keys),
    events: new EventStore(redis, keys, config.retentionMs, config.reconcileAfterMs),
    deliveries,
    endpoints: new EndpointGate(redis, keys, config.circuit, config.reconcileAfterMs),
    queues,
    replays: new Replayer(redis, keys, deliveries, subscriptions, queues),
    outages,
    close: async () => {
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
