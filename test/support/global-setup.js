import { startEmbeddedCluster, startEmbeddedRedis } from "@hookbus/dev-redis";

/**
 * Starts one redis-server on a free loopback port for the whole run, unless REDIS_URL names
 * one; with HOOKBUS_TEST_CLUSTER=1, a 3-master Redis Cluster instead, unless
 * REDIS_CLUSTER_NODES names one. Each test file works under its own key prefix, so files
 * never see each other's data and nothing depends on what a shared Redis already holds.
 * (Loaded from the build: `npm test` builds first.)
 */
export default async function globalSetup() {
  if (process.env.HOOKBUS_TEST_CLUSTER === "1") {
    delete process.env.REDIS_URL;
    if (process.env.REDIS_CLUSTER_NODES) return;
    const cluster = await startEmbeddedCluster({ masters: 3 });
    process.env.REDIS_CLUSTER_NODES = cluster.nodes;
    globalThis.__HOOKBUS_TEST_REDIS__ = cluster;
    return;
  }
  if (process.env.REDIS_URL) return;
  const redis = await startEmbeddedRedis();
  process.env.REDIS_URL = redis.url;
  globalThis.__HOOKBUS_TEST_REDIS__ = redis;
}
