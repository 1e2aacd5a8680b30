import { startEmbeddedRedis } from "@hookbus/dev-redis";

/**
 * Starts one redis-server on a free loopback port for the whole run, unless REDIS_URL names
 * one. Each test file works under its own key prefix, so files never see each other's data
 * and nothing depends on what a shared Redis already holds. (Loaded from the build: `npm test`
 * builds first.)
 */
export default async function globalSetup() {
  if (process.env.REDIS_URL) return;
  const redis = await startEmbeddedRedis();
  process.env.REDIS_URL = redis.url;
  globalThis.__HOOKBUS_TEST_REDIS__ = redis;
}
