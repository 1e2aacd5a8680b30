import type { RedisOptions } from "ioredis";
import type { RedisConnection } from "../store/redis.js";
import type { Config, RunConfig } from "./config.js";
import type { Logger } from "./logger.js";
import { AttemptClaims } from "../store/attempt-claims.js";
import { AuditTrail, systemActor } from "../store/audit-trail.js";
import { DeliveryLog } from "../store/delivery-log.js";
import { EndpointGate } from "../store/endpoint-gate.js";
import { EventStore } from "../store/event-store.js";
import { Keys } from "../store/keys.js";
import { Lanes } from "../store/lanes.js";
import { ProjectStore } from "../store/project-store.js";
import { ParticipantIndex } from "../store/participant-index.js";
import { ParticipantHasher } from "../policy/participant-hash.js";
import { OutageLog } from "./outage-log.js";
import { createQueues, type HookbusQueues } from "../queue/queues.js";
import { createRedis } from "../store/redis.js";
import { Replayer } from "../flows/replay.js";
import { Eraser } from "../flows/erasure.js";
import { erasureAuditRecord } from "../flows/erasure-audit.js";
import { ScheduleStore } from "../store/schedule-store.js";
import { SubscriptionStore } from "../store/subscription-store.js";

/** The stores and queues both apps work with, on one Redis connection. */
export interface HookbusContext {
  config: Config;
  redis: RedisConnection;
  keys: Keys;
  subscriptions: SubscriptionStore;
  projects: ProjectStore;
  schedules: ScheduleStore;
  events: EventStore;
  deliveries: DeliveryLog;
  endpoints: EndpointGate;
  /** One attempt of a delivery at a time: what an attempt the gate let through claims before it is sent. */
  claims: AttemptClaims;
  lanes: Lanes;
  queues: HookbusQueues;
  replays: Replayer;
  /** Who did what: every change an admin or Hookbus itself made. */
  audit: AuditTrail;
  participants: ParticipantIndex;
  erasures: Eraser;
  /** Where every connection of the app reports Redis errors, logged once an outage. */
  outages: OutageLog;
  close(): Promise<void>;
}

/** @param redisOptions for the shared connection, over createRedis's (the ingest's fails fast: FAIL_FAST) */
export function createContext(config: RunConfig, logger: Logger, redisOptions: RedisOptions = {}): HookbusContext {
  const redis = createRedis(config, redisOptions);
  const outages = new OutageLog(logger);
  outages.watch(redis);
  const keys = new Keys(config.queuePrefix, config.partitions);
  const queues = createQueues(redis, keys.partitionPrefixes, (error) => outages.error(error, "queue"));
  const subscriptions = new SubscriptionStore(redis, keys, config.encryption, (subscriptionId, reason) =>
    logger.error({ subscriptionId, reason }, "subscription unreadable: its deliveries wait until the key is back or it is deleted"),
  );
  const deliveries = new DeliveryLog(redis, keys, config.retentionMs, config.reconcileAfterMs);
  const audit = new AuditTrail(redis, keys, config.auditRetentionMs);
  const hasher = new ParticipantHasher(config.encryption);
  const participants = new ParticipantIndex(redis, keys, hasher, config.retentionMs);
  const projects = new ProjectStore(redis, keys);
  return {
    config,
    redis,
    keys,
    subscriptions,
    projects,
    schedules: new ScheduleStore(redis, keys),
    events: new EventStore(redis, keys, config.retentionMs, config.reconcileAfterMs, participants, undefined, config.replicaWait),
    deliveries,
    endpoints: new EndpointGate(redis, keys, config.circuit),
    claims: new AttemptClaims(redis, keys, config.reconcileAfterMs),
    // Twice the reconcile period: well inside the margin in which the reconciler dead-letters a delivery about to expire.
    lanes: new Lanes(redis, keys, config.retentionMs, 2 * config.reconcileAfterMs),
    queues,
    replays: new Replayer(redis, keys, deliveries, subscriptions, queues, audit),
    audit,
    participants,
    erasures: new Eraser(redis, keys, config.encryption, hasher, participants, projects, queues, async (receipt, valueHash) => {
      await audit.append({ ...erasureAuditRecord("erasure.finish", receipt, valueHash), actor: systemActor("erasure finished") });
    }),
    outages,
    close: async () => {
      outages.stop();
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
