export * from "./attempt-claims.js";
export * from "./attempt-inputs.js";
export * from "./delivery-log.js";
export * from "./delivery-queries.js";
export * from "./endpoint-gate.js";
export * from "./event-store.js";
export * from "./keys.js";
export * from "./redis-clock.js";
// defineScript and readLua stay the stores' own.
export {
  createRedis,
  dataNodes,
  everyNode,
  FAIL_FAST,
  isRedisFailure,
  redisReachable,
  sendTogether,
  untilReady,
  type RedisConnection,
  type RedisNode,
  type RedisTarget,
} from "./redis.js";
export * from "./subscription-cache.js";
export * from "./subscription-store.js";
export * from "./sync-outcomes.js";
export * from "./project-store.js";
export * from "./audit-trail.js";
export * from "./lanes.js";
export * from "./aof-rewrite.js";
export * from "./participant-index.js";
export * from "./schedule-store.js";
