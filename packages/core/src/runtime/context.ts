import type { Redis, RedisOptions } from "ioredis";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { DeliveryLog } from "../store/delivery-log.js";
import { EndpointGate } from "../store/endpoint-gate.js";
import { EventStore } from "../store/event-store.js";
import { Keys } from "../store/keys.js";
import { ProjectStore } from "../store/project-store.js";
import { ParticipantIndex } from "../store/participant-index.js";
import { ParticipantHasher } from "../policy/participant-hash.js";
import { OutageLog } from "./outage-log.js";
import { createQueues, type HookbusQueues } from "../queue/queues.js";
import { createRedis } from "../store/redis.js";
import { Replayer } from "../flows/replay.js";
import { Eraser } from "../flows/erasure.js";
import { SubscriptionStore } from "../store/subscription-store.js";

/** The stores and queues both apps work with, on one Redis connection. */
export interface HookbusContext {
  config: Config;
  redis: Redis;
  keys: Keys;
  subscriptions: SubscriptionStore;
  projects: ProjectStore;
  events: EventStore;
  deliveries: DeliveryLog;
  endpoints: EndpointGate;
  queues: HookbusQueues;
  replays: Replayer;
  participants: ParticipantIndex;
  erasures: Eraser;
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
  const hasher = new ParticipantHasher(config.encryption);
  const participants = new ParticipantIndex(redis, keys, hasher, config.retentionMs);
  const projects = new ProjectStore(redis, keys);
  return {
    config,
    redis,
    keys,
    subscriptions,
    projects,
    events: new EventStore(redis, keys, config.retentionMs, config.reconcileAfterMs, participants),
    deliveries,
    endpoints: new EndpointGate(redis, keys, config.circuit, config.reconcileAfterMs),
    queues,
    replays: new Replayer(redis, keys, deliveries, subscriptions, queues),
    participants,
    // The erasure's audit entry (issue 24, part 2) is appended by the hook Eraser takes as its
    // last argument, `onErased(receipt, valueHash)`: pass the audit trail's append there.
    erasures: new Eraser(redis, keys, config.encryption, hasher, participants, projects, queues),
    outages,
    close: async () => {
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
