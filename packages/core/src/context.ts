import type { Redis } from "ioredis";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { DeliveryLog } from "./delivery-log.js";
import { EventStore } from "./event-store.js";
import { Keys } from "./keys.js";
import { createQueues, type HookbusQueues } from "./queues.js";
import { createRedis } from "./redis.js";
import { Replayer } from "./replay.js";
import { SubscriptionStore } from "./subscription-store.js";

/** The stores and queues both apps work with, on one Redis connection. */
export interface HookbusContext {
  config: Config;
  redis: Redis;
  keys: Keys;
  subscriptions: SubscriptionStore;
  events: EventStore;
  deliveries: DeliveryLog;
  queues: HookbusQueues;
  replays: Replayer;
  close(): Promise<void>;
}

export function createContext(config: Config & { redisUrl: string }, logger: Logger): HookbusContext {
  const redis = createRedis(config.redisUrl);
  redis.on("error", (error: Error) => logger.warn({ err: error }, "redis connection error"));
  const keys = new Keys(config.queuePrefix);
  const queues = createQueues(redis, config.queuePrefix, (error) => logger.warn({ err: error }, "queue error"));
  const subscriptions = new SubscriptionStore(redis, keys, config.encryption);
  const deliveries = new DeliveryLog(redis, keys, config.retentionMs);
  return {
    config,
    redis,
    keys,
    subscriptions,
    events: new EventStore(redis, keys, config.retentionMs),
    deliveries,
    queues,
    replays: new Replayer(redis, keys, deliveries, subscriptions, queues),
    close: async () => {
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
