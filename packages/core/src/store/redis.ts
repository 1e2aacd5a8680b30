import { once } from "node:events";
import { readFileSync } from "node:fs";
import { Cluster, Redis, ReplyError, type ChainableCommander, type RedisOptions } from "ioredis";

/** A connection to one Redis or to a Redis Cluster: the stores and queues work on either. */
export type RedisConnection = Redis | Cluster;

export interface RedisNode {
  host: string;
  port: number;
}

/** Where Redis is: one server by URL, or a cluster by some of its nodes (with their password). */
export interface RedisTarget {
  redisUrl?: string;
  redisClusterNodes?: RedisNode[];
  redisPassword?: string;
}

/**
 * A Redis connection as BullMQ needs it: commands wait through a reconnect instead of
 * failing after a few retries (maxRetriesPerRequest null), so a Redis restart pauses
 * Hookbus rather than losing work. With cluster nodes, a Cluster: ioredis follows MOVED and
 * ASK redirections itself and sends each command to the master of its key's slot. Every
 * key a script or a MULTI touches shares the prefix's hash tag, so they all hash to one slot.
 */
export function createRedis(target: RedisTarget, options: RedisOptions = {}): RedisConnection {
  const { enableOfflineQueue, ...nodeOptions } = { maxRetriesPerRequest: null, enableReadyCheck: true, ...options };
  if (target.redisClusterNodes) {
    return keepScriptsLoaded(
      new Cluster(target.redisClusterNodes, {
        enableReadyCheck: true,
        enableOfflineQueue: enableOfflineQueue ?? true,
        redisOptions: { ...nodeOptions, ...(target.redisPassword ? { password: target.redisPassword } : {}) },
      }),
    );
  }
  if (!target.redisUrl) throw new Error("no Redis to connect to: set REDIS_URL or REDIS_CLUSTER_NODES");
  return new Redis(target.redisUrl, {
    ...nodeOptions,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(target.redisPassword && !new URL(target.redisUrl).password ? { password: target.redisPassword } : {}),
  });
}

/**
 * Keeps every script defined on a cluster connection (Hookbus's and BullMQ's) loaded on each
 * node, replicas too. ioredis sends a script in full (EVAL) the first time a socket runs it, but a
 * pipeline it sends again after a slot moved goes as plain EVALSHA, which a master that never
 * ran the script refuses (NOSCRIPT: a publish answered 503), and a replica that takes over has
 * none of the scripts its master ran. So every node gets each script as it is defined, and all
 * of them when it joins or the slot map is refreshed (on MOVED).
 */
function keepScriptsLoaded(cluster: Cluster): Cluster {
  const loadedOn = new WeakMap<Redis, Set<string>>();
  const load = (node: Redis) => {
    const loaded = loadedOn.get(node) ?? new Set<string>();
    loadedOn.set(node, loaded);
    // ioredis's registry of the scripts defined on the connection (defineCommand).
    const scripts = (cluster as unknown as { scriptsSet: Record<string, { lua: string; sha: string }> }).scriptsSet;
    for (const { lua, sha } of Object.values(scripts)) {
      if (loaded.has(sha)) continue;
      loaded.add(sha);
      // Should it fail, the node is asked again at the next refresh.
      node.script("LOAD", lua).catch(() => loaded.delete(sha));
    }
  };
  // Replicas too: the one that takes over from a failed master must have them.
  const loadOnEveryNode = () => cluster.nodes("all").forEach(load);
  const define = cluster.defineCommand.bind(cluster);
  cluster.defineCommand = (name, definition) => {
    define(name, definition);
    loadOnEveryNode();
  };
  cluster.on("+node", load);
  cluster.on("refresh", loadOnEveryNode);
  return cluster;
}

/** Every server: each node of a cluster, replicas too (one takes over from a failed master), or the connection's own. */
export function everyNode(redis: RedisConnection): Redis[] {
  return redis instanceof Cluster ? redis.nodes("all") : [redis];
}

/** The servers that hold the data: the connection's own, or each master of a cluster (for INFO, SCAN and such). */
export function dataNodes(redis: RedisConnection): Redis[] {
  return redis instanceof Cluster ? redis.nodes("master") : [redis];
}

/** The master that serves a slot now, as the client's slot map has it; undefined on one Redis. */
export function masterOfSlot(redis: RedisConnection, slot: number): string | undefined {
  return redis instanceof Cluster ? redis.slots[slot]?.[0] : undefined;
}

/** The keys matching `pattern` on every server that holds data, a SCAN batch (of about `count`) at a time. */
export async function* scanEveryNode(redis: RedisConnection, pattern: string, count: number): AsyncGenerator<string[]> {
  for (const node of dataNodes(redis)) {
    let cursor = "0";
    do {
      const [next, found] = await node.scan(cursor, "MATCH", pattern, "COUNT", count);
      cursor = next;
      yield found;
    } while (cursor !== "0");
  }
}

/**
 * Options for a connection that serves requests with deadlines (the ingest's): while it is not
 * connected, a command fails at once instead of waiting in ioredis's offline queue. A request
 * answered 503 during an outage then leaves nothing behind (a publish's body among it, up to
 * 1 MiB a request), so memory stays flat however long Redis is gone, and nothing it asked for
 * runs when Redis returns. Commands already sent when the connection dropped are sent again on
 * reconnect (few: those in flight at that moment), and the store's deadline refuses the late ones.
 */
export const FAIL_FAST: RedisOptions = { enableOfflineQueue: false };

/** Resolves once the connection is ready: with FAIL_FAST, commands sent before then would fail. */
export async function untilReady(redis: RedisConnection): Promise<void> {
  if (redis.status !== "ready") await once(redis, "ready");
}

/** What ioredis rejects a command with when the connection is down (it has no error types for these). */
const REDIS_CONNECTION_ERRORS = new Set([
  "Connection is closed.",
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
  "Cluster is disconnected.",
  "Node is disconnected",
  "None of startup nodes is available",
]);

/**
 * A command Redis refused (WRONGTYPE, OOM, ...) or that ioredis could not send (the connection
 * down, a cluster's slot still moving after every redirection): a failure of the store, for
 * the client to retry (503), not a fault of this code (500).
 */
export function isRedisFailure(error: unknown): error is Error {
  if (error instanceof ReplyError) return true;
  if (!(error instanceof Error)) return false;
  return (
    error.name === "MaxRetriesPerRequestError" ||
    error.name === "ClusterAllFailedError" ||
    REDIS_CONNECTION_ERRORS.has(error.message) ||
    error.message.startsWith("Too many Cluster redirections")
  );
}

/** True when Redis answers PING within `timeoutMs`: what /readyz reports. */
export async function redisReachable(redis: RedisConnection, timeoutMs = 500): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    if (redis.status !== "ready") return false;
    return await Promise.race([redis.ping().then((r) => r === "PONG"), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `issue`, which sends several commands at once on `redis`, and puts them on the wire in
 * one socket write: ioredis writes each command as it is called, and on these machines each
 * write wakes Redis on its own (a whole pass of its event loop for one command). Sending the
 * writes that end an attempt (its log, the gate's release, a sync report) together cut the
 * worker's CPU per delivery by about 10% and Redis's by 13% in the benchmark. Only the commands `issue` sends before it returns
 * (before its first await) go together; Redis still runs them in the order they were called.
 */
export function sendTogether<T>(redis: RedisConnection, issue: () => T): T {
  // A cluster writes to the socket of each key's master: every master's is held.
  const sockets = dataNodes(redis).flatMap((node) => (node.stream ? [node.stream] : []));
  for (const socket of sockets) socket.cork();
  try {
    return issue();
  } finally {
    for (const socket of sockets) socket.uncork();
  }
}

/**
 * A Lua script registered once per connection and then called by its SHA (ioredis falls back
 * to EVAL after a Redis restart). Used where several keys must change together.
 */
export function defineScript<Result>(redis: RedisConnection, name: string, numberOfKeys: number | "variable", lua: string) {
  // With a variable number of keys, each call says how many it passes, ahead of them.
  if (!(name in redis)) redis.defineCommand(name, numberOfKeys === "variable" ? { lua } : { numberOfKeys, lua });
  const command = name;
  const keysOf = (keys: string[]) => (numberOfKeys === "variable" ? [keys.length, ...keys] : keys);
  return {
    /** Runs the script now. */
    run: (keys: string[], args: (string | number)[]): Promise<Result> =>
      (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<Result>>)[command]!(...keysOf(keys), ...args),
    /** Queues the script on a pipeline or MULTI; `onReply`, if given, is called with its own reply once that runs. */
    queue: (
      pipeline: ChainableCommander,
      keys: string[],
      args: (string | number)[],
      onReply?: (error: Error | null, reply: Result) => void,
    ): void => {
      (pipeline as unknown as Record<string, (...a: unknown[]) => unknown>)[command]!(
        ...keysOf(keys),
        ...args,
        ...(onReply ? [onReply] : []),
      );
    },
  };
}

/**
 * A Lua script kept in a .lua file beside the module that runs it (`moduleUrl`: that module's
 * import.meta.url), read once, when that module loads. The build copies the .lua files into dist.
 */
export function readLua(moduleUrl: string, file: string): string {
  return readFileSync(new URL(file, moduleUrl), "utf8");
}
