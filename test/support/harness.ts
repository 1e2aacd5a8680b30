import { HookbusApiError, HookbusClient } from "@hookbus/client";
import type {
  CreateSubscriptionBody,
  DeliveryStatus,
  DeliveryWithAttempts,
  ErasureView,
  EventView,
  SubscriptionWithSecret,
} from "@hookbus/schemas";
import { randomBytes } from "node:crypto";
import { Queue } from "bullmq";
import { newEncryptionKey, partitionOfId } from "@hookbus/core/policy";
import { createContext, createLogger, loadConfig, type HookbusContext, type RunConfig } from "@hookbus/core/runtime";
import { createRedis, dataNodes, Keys, untilReady, type RedisConnection } from "@hookbus/core/store";
import { startIngest, type RunningIngest } from "@hookbus/ingest";
import { startWorker, type RunningWorker, type WorkerOptions } from "@hookbus/worker";

export type TestConfig = RunConfig;

type AtLeastOne<T> = [T, ...T[]];

// HOOKBUS_TEST_LOG_LEVEL=warn shows what the apps log while a test runs.
const silent = createLogger("test", process.env.HOOKBUS_TEST_LOG_LEVEL ?? "silent");

/**
 * Where the tests' Redis is: REDIS_URL, or REDIS_CLUSTER_NODES when the run is on a cluster
 * (`HOOKBUS_TEST_CLUSTER=1`, see global-setup.js). A test's own REDIS_URL overrides both.
 */
function testRedisVariables(env: Record<string, string>): Record<string, string> {
  if (env.REDIS_URL) return { REDIS_URL: env.REDIS_URL };
  if (env.REDIS_CLUSTER_NODES) return { REDIS_CLUSTER_NODES: env.REDIS_CLUSTER_NODES };
  if (process.env.REDIS_CLUSTER_NODES) return { REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES };
  if (process.env.REDIS_URL) return { REDIS_URL: process.env.REDIS_URL };
  throw new Error("neither REDIS_URL nor REDIS_CLUSTER_NODES is set: the jest global setup starts a redis-server");
}

/**
 * A config for one test file: its own key prefix on the test Redis, loopback receivers
 * allow-listed; `adminKeyName` names the admin key (`name=admin:key`); `keys`, the admin and
 * publisher keys to take (an earlier config's), else new ones.
 */
export function testConfig(
  env: Record<string, string> = {},
  adminKeyName?: string,
  keys?: { adminKey: string; publisherKey: string },
): TestConfig & { adminKey: string; publisherKey: string; env: Record<string, string> } {
  const adminKey = keys?.adminKey ?? `adm_${randomBytes(16).toString("hex")}`;
  const publisherKey = keys?.publisherKey ?? `pub_${randomBytes(16).toString("hex")}`;
  // Kept as variables too, for an app started as a process of its own.
  const variables: Record<string, string> = {
    ...testRedisVariables(env),
    HOOKBUS_API_KEYS: `${adminKeyName ? `${adminKeyName}=` : ""}admin:${adminKey},publisher:${publisherKey}`,
    HOOKBUS_ALLOWED_NETWORKS: "127.0.0.0/8,::1/128",
    HOOKBUS_ENCRYPTION_KEY: newEncryptionKey(),
    HOOKBUS_QUEUE_PREFIX: `{test-${randomBytes(6).toString("hex")}}`,
    HOST: "127.0.0.1",
    PORT: "0",
    WORKER_METRICS_PORT: "0",
    LOG_LEVEL: "silent",
    ...env,
  };
  return { ...(loadConfig(variables) as TestConfig), adminKey, publisherKey, env: variables };
}

/** A connection of the test's own to the test's Redis or cluster; the caller quits it. */
export function openRedis(config: TestConfig): RedisConnection {
  return createRedis(config);
}

/**
 * One of Hookbus's queues, on a connection of its own that closing the queue also quits: a
 * route or deliver queue of the partition an event's or delivery's id names (`ofId`), else
 * partition 0's.
 */
export function openQueue<T = any>(config: TestConfig, name: string, ofId?: string): Queue<T> {
  const connection = openRedis(config);
  const prefixes = new Keys(config.queuePrefix, config.partitions).partitionPrefixes;
  const queue = new Queue<T>(name, { connection, prefix: prefixes[ofId === undefined ? 0 : partitionOfId(ofId)] });
  // BullMQ leaves a connection it was given open; this one belongs to the queue alone.
  const closeQueue = queue.close.bind(queue);
  queue.close = async () => {
    await closeQueue();
    await connection.quit();
  };
  return queue;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A running Hookbus (ingest and, unless told otherwise, a worker) and a client for its API. */
export class TestHookbus {
  private workers: RunningWorker[] = [];
  private ownContext?: HookbusContext;

  /** The API as an admin sees it, through the typed client. */
  readonly client: HookbusClient;
  /** The API as a publisher sees it. */
  readonly publisher: HookbusClient;

  private constructor(
    readonly config: ReturnType<typeof testConfig>,
    readonly ingest: RunningIngest,
  ) {
    this.client = new HookbusClient({ baseUrl: ingest.url, apiKey: config.adminKey });
    this.publisher = new HookbusClient({ baseUrl: ingest.url, apiKey: config.publisherKey });
  }

  /** @param options.restartOf a Hookbus stopped before, whose Redis data, prefix and keys this one takes over (with `env` over its variables) */
  static async start(
    options: { env?: Record<string, string>; worker?: boolean; adminKeyName?: string; restartOf?: TestHookbus } = {},
  ): Promise<TestHookbus> {
    const earlier = options.restartOf?.config;
    const config = earlier
      ? testConfig({ ...earlier.env, ...options.env }, options.adminKeyName, earlier)
      : testConfig(options.env, options.adminKeyName);
    const hookbus = new TestHookbus(config, await startIngest(config, { logger: silent }));
    if (options.worker !== false) await hookbus.startWorker();
    return hookbus;
  }

  get url(): string {
    return this.ingest.url;
  }

  /** The /metrics port of the first worker started. */
  get workerMetricsPort(): number {
    const [worker] = this.workers;
    if (!worker) throw new Error("no worker is running");
    return worker.metricsPort;
  }

  async startWorker(options: Omit<WorkerOptions, "logger"> = {}): Promise<RunningWorker> {
    const worker = await startWorker(this.config, { logger: silent, ...options });
    this.workers.push(worker);
    return worker;
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    this.workers = [];
  }

  /** Calls the API over raw HTTP, as admin unless another key (or null for none) is given: for tests of status codes and error bodies. */
  async api<T = any>(method: string, path: string, body?: unknown, key: string | null = this.config.adminKey): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  }

  async createSubscription(body: Record<string, unknown>): Promise<SubscriptionWithSecret> {
    return this.client.subscriptions.create(body as CreateSubscriptionBody);
  }

  async publish(body: Record<string, unknown>, key: string = this.config.publisherKey): Promise<ApiResponse> {
    return this.api("POST", "/v1/events", body, key);
  }

  /** A delivery with its attempts. */
  async delivery(id: string): Promise<DeliveryWithAttempts> {
    return this.client.deliveries.get(id);
  }

  /** The deliveries of an event, once routing has made at least `count` of them. */
  async deliveriesOf(eventId: string, count = 1): Promise<AtLeastOne<EventView["deliveries"][number]>> {
    return waitFor(async () => {
      const { deliveries } = await this.client.events.get(eventId);
      return deliveries.length >= count ? (deliveries as AtLeastOne<(typeof deliveries)[number]>) : undefined;
    }, `${count} deliveries of ${eventId}`);
  }

  /** Waits until the delivery reaches the status, and returns it with its attempts. */
  async deliveryWithStatus(id: string, status: DeliveryStatus, timeoutMs = 15_000): Promise<DeliveryWithAttempts> {
    return waitFor(
      async () => {
        const delivery = await this.client.deliveries.get(id).catch(undefinedIfNotFound);
        return delivery?.status === status ? delivery : undefined;
      },
      `delivery ${id} to be ${status}`,
      timeoutMs,
    );
  }

  /** Waits until the erasure is done (one of over 1,000 events, or the first after an upgrade, runs in a worker), and returns its receipt. */
  async erasureDone(id: string): Promise<ErasureView> {
    return waitFor(async () => {
      const receipt = await this.client.erasures.get(id);
      return receipt.status === "done" ? receipt : undefined;
    }, `erasure ${id} to be done`);
  }

  /** Jobs in one of Hookbus's queues, by state. */
  /** A queue's jobs by state: a route or deliver queue's summed over every partition. */
  async queueCounts(name: string): Promise<{ waiting: number; active: number; delayed: number }> {
    const { queues } = this.context();
    const partitioned = name === "route" || name === "deliver" || name === "deliver-sync";
    const all = partitioned
      ? queues.partitions.map((p) => ({ route: p.route, deliver: p.deliver, "deliver-sync": p.deliverSync })[name])
      : [{ replay: queues.replay, erasure: queues.erasure, schedule: queues.schedule }[name as "replay"]];
    const counts = await Promise.all(all.map((queue) => queue.getJobCounts("waiting", "active", "delayed")));
    const sum = (state: string) => counts.reduce((total, c) => total + (c[state] ?? 0), 0);
    return { waiting: sum("waiting"), active: sum("active"), delayed: sum("delayed") };
  }

  /** One Redis command on a connection of its own, for assertions on what Hookbus left in Redis (on a cluster, a command on a key). */
  async redisCommand(command: string, ...args: string[]): Promise<unknown> {
    const redis = openRedis(this.config);
    try {
      return await redis.call(command, ...args);
    } finally {
      await redis.quit();
    }
  }

  /** Hookbus's keys matching `pattern` after a prefix, in every partition (KEYS, on the Redis or master that holds each). */
  async keysMatching(pattern: string): Promise<string[]> {
    const prefixes = this.context().keys.partitionPrefixes;
    const found = await Promise.all(prefixes.map((prefix) => this.redisCommand("KEYS", `${prefix}:${pattern}`) as Promise<string[]>));
    return found.flat();
  }

  /** True once the event is routed: it has left its partition's index of events to route. */
  async routed(eventId: string): Promise<boolean> {
    return (await this.redisCommand("ZSCORE", this.context().keys.eventsToRoute(partitionOfId(eventId)), eventId)) === null;
  }

  /** A command without a key (KEYS, PUBSUB, INFO), run on the one Redis or on every master of a cluster: each one's reply. */
  async onEveryMaster(command: string, ...args: string[]): Promise<unknown[]> {
    const redis = openRedis(this.config);
    try {
      // A cluster knows its masters once ready.
      await untilReady(redis);
      return await Promise.all(dataNodes(redis).map((node) => node.call(command, ...args)));
    } finally {
      await redis.quit();
    }
  }

  /** Every key under the test's key prefix. */
  async prefixKeys(): Promise<string[]> {
    return ((await this.onEveryMaster("KEYS", `${this.config.queuePrefix}*`)) as string[][]).flat();
  }

  /** Every key and value under the test's key prefix, read raw (strings, hashes, lists, sets, sorted sets, streams): what a leak test searches. */
  async dumpRedis(): Promise<string> {
    const keys = await this.prefixKeys();
    const values = await Promise.all(
      keys.map(async (key) => {
        const type = (await this.redisCommand("TYPE", key)) as string;
        const read: Record<string, [string, ...string[]]> = {
          string: ["GET", key],
          hash: ["HGETALL", key],
          list: ["LRANGE", key, "0", "-1"],
          set: ["SMEMBERS", key],
          zset: ["ZRANGE", key, "0", "-1"],
          stream: ["XRANGE", key, "-", "+"],
        };
        const command = read[type];
        return command ? JSON.stringify(await this.redisCommand(...command)) : "";
      }),
    );
    return keys.join("\n") + values.join("\n");
  }

  /**
   * The stores and queues on a connection of the test's own, as an admin tool or a crashed
   * process would hold them, closed with the rest at stop.
   */
  context(): HookbusContext {
    this.ownContext ??= createContext(this.config, silent);
    return this.ownContext;
  }

  async stop(): Promise<void> {
    await this.ownContext?.close();
    this.ownContext = undefined;
    await this.stopWorkers();
    await this.ingest.close();
  }
}

function undefinedIfNotFound(error: unknown): undefined {
  if (error instanceof HookbusApiError && error.status === 404) return undefined;
  throw error;
}

/** Polls until `probe` returns a value other than undefined/false, or fails at the deadline. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
