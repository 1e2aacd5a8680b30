import { z } from "zod";
import { parseRetrySchedule, DEFAULT_RETRY_SCHEDULE, scheduleBeyondRetention } from "../policy/retry.js";
import { parseDuration } from "@hookbus/schemas";
import { SecretBox } from "../policy/secret-box.js";
import { AllowedNetworks } from "../policy/ssrf.js";
import { MAX_PARTITIONS } from "../policy/partitions.js";
import type { ReplicaWait } from "../store/event-store.js";
import type { RedisNode } from "../store/redis.js";

export type ApiRole = "admin" | "publisher";
export interface ApiKey {
  role: ApiRole;
  key: string;
  /** Who holds it, as the audit trail names them: `name=role:key`. */
  name?: string;
}

const port = z.coerce.number().int().min(0).max(65535);

/** How one entry of HOOKBUS_API_KEYS is written; the error message shows it. */
const API_KEY_FORMS = "role:key or name=role:key, with role admin or publisher, a key of 16+ characters";
/**
 * `name=role:key`: the name may hold letters, digits, spaces and . _ @ - only, so it can never
 * be mistaken for a role (an entry of the older `role:key` form has no `=` before its colon).
 */
const API_KEY_ENTRY = /^(?:([\w .@-]{1,64})=)?(admin|publisher):(.{16,})$/s;

/** The entries of a comma-separated setting, trimmed, the empty ones left out. */
function commaSeparated(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A Redis Cluster's seed nodes, `host:port,host:port,...`: the client finds the rest from them. */
const clusterNodes = z.string().transform((value, ctx): RedisNode[] => {
  const nodes: RedisNode[] = [];
  for (const entry of commaSeparated(value)) {
    const match = /^(.+):(\d{1,5})$/.exec(entry);
    const nodePort = match ? Number(match[2]) : NaN;
    if (!match || nodePort < 1 || nodePort > 65535) {
      ctx.addIssue({ code: "custom", message: `"${entry}" must be host:port` });
      return z.NEVER;
    }
    nodes.push({ host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port: nodePort });
  }
  if (nodes.length === 0) {
    ctx.addIssue({ code: "custom", message: "names no node: give host:port,host:port,..." });
    return z.NEVER;
  }
  return nodes;
});

const apiKeys = z.string().transform((value, ctx): ApiKey[] => {
  const keys: ApiKey[] = [];
  for (const entry of commaSeparated(value)) {
    const [, name, role, key] = API_KEY_ENTRY.exec(entry) ?? [];
    if (!role || !key) {
      // Only what comes before the key's first character: the message must not print a key.
      const shown = entry.slice(0, entry.indexOf(":") + 1);
      ctx.addIssue({
        code: "custom",
        message: `"${shown}…" must be ${API_KEY_FORMS}, and a name of letters, digits, spaces, ".", "_", "@" or "-" (at most 64)`,
      });
      return z.NEVER;
    }
    keys.push({ role: role as ApiRole, key, ...(name ? { name: name.trim() } : {}) });
  }
  return keys;
});

const retrySchedule = z.string().transform((value, ctx) => {
  try {
    return parseRetrySchedule(value.split(","));
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const allowedNetworks = z.string().transform((value, ctx) => {
  try {
    return AllowedNetworks.parse(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const encryptionKeys = z
  .string({ error: "required: the base64 of 32 random bytes (openssl rand -base64 32), or ID:KEY,ID:KEY to rotate" })
  .transform((value, ctx) => {
    try {
      return SecretBox.parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });

const positiveDuration = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

/**
 * Partitions on a Redis Cluster unless HOOKBUS_PARTITIONS says otherwise: many more than the
 * masters of a small cluster, so that each master holds a near-even share. One Redis gains
 * nothing from more than one.
 */
export const CLUSTER_PARTITIONS = 16;

const envSchema = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_CLUSTER_NODES: clusterNodes.optional(),
  REDIS_PASSWORD: z.string().optional(),
  HOOKBUS_REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(100).default(0),
  HOOKBUS_REDIS_WAIT_TIMEOUT: positiveDuration.default(2000),
  PORT: port.default(8080),
  HOST: z.string().default("0.0.0.0"),
  WORKER_METRICS_PORT: port.default(9091),
  HOOKBUS_API_KEYS: apiKeys.default([]),
  HOOKBUS_ALLOWED_NETWORKS: allowedNetworks.default(new AllowedNetworks()),
  HOOKBUS_ENCRYPTION_KEY: encryptionKeys,
  HOOKBUS_SEALING_KEY: z.string().optional(),
  HOOKBUS_RETRY_SCHEDULE: retrySchedule.default(DEFAULT_RETRY_SCHEDULE),
  HOOKBUS_QUEUE_PREFIX: z.string().min(1).default("{hookbus}"),
  HOOKBUS_PARTITIONS: z.coerce.number().int().min(1).max(MAX_PARTITIONS).optional(),
  HOOKBUS_RETENTION: positiveDuration.default(30 * 24 * 3600 * 1000),
  // "never" (the default) keeps the audit trail for ever: it outlives the deliveries it speaks of.
  HOOKBUS_AUDIT_RETENTION: z.union([z.literal("never").transform(() => undefined), positiveDuration]).optional(),
  HOOKBUS_ASYNC_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(200),
  HOOKBUS_SYNC_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(50),
  HOOKBUS_RATE_LIMIT: z.coerce.number().int().min(0).default(5000),
  HOOKBUS_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(30),
  HOOKBUS_MAX_SYNC_WAITS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  HOOKBUS_QUEUE_BOARD_WRITABLE: z.stringbool().default(false),
  HOOKBUS_METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  HOOKBUS_SECRET_OVERLAP: positiveDuration.default(24 * 3600 * 1000),
  HOOKBUS_DISABLE_AFTER: positiveDuration.default(5 * 24 * 3600 * 1000),
  HOOKBUS_CIRCUIT_FAILURES: z.coerce.number().int().min(1).max(10_000).default(5),
  HOOKBUS_CIRCUIT_COOLDOWN: positiveDuration.default(30_000),
  HOOKBUS_CIRCUIT_MAX_COOLDOWN: positiveDuration.default(10 * 60_000),
  HOOKBUS_RECONCILE_AFTER: positiveDuration.default(60_000),
  HOOKBUS_JOB_LOCK: positiveDuration.default(10_000),
  HOOKBUS_SHUTDOWN_GRACE: positiveDuration.default(30_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** Hookbus's settings, read once from the environment. */
export interface Config {
  /** One Redis. */
  redisUrl?: string;
  /** Or a Redis Cluster, by some of its nodes. */
  redisClusterNodes?: RedisNode[];
  /** The password of every cluster node (one Redis takes it from its URL, or from here when the URL has none). */
  redisPassword?: string;
  /** Replicas that must hold a published event before its publisher is answered 202 (WAIT); none when unset. */
  replicaWait?: ReplicaWait;
  port: number;
  host: string;
  workerMetricsPort: number;
  apiKeys: ApiKey[];
  /** Private or reserved networks that webhooks may reach all the same; the rest stay blocked. */
  allowedNetworks: AllowedNetworks;
  /** Seals signing secrets, receiver passwords and header values at rest. */
  encryption: SecretBox;
  /** Default delays (ms) before each retry: its length + 1 is the number of attempts. */
  retrySchedule: number[];
  queuePrefix: string;
  /** How many partitions events are spread over (see Keys): each a hash tag, so a Redis Cluster spreads them over its masters. */
  partitions: number;
  /** How long events and deliveries are kept, in ms. */
  retentionMs: number;
  /** How long audit entries are kept, in ms; undefined: for ever. */
  auditRetentionMs?: number;
  asyncConcurrency: number;
  syncConcurrency: number;
  /** Requests per second per API key before 429; 0 turns the limit off. */
  rateLimitPerSecond: number;
  /** Unknown keys one client address may send in a minute before it is refused with 429; 0 turns the throttle off. */
  authFailureLimit: number;
  /** Sync publishes one ingest holds waiting at once; past it, 503 with Retry-After. */
  maxSyncWaits: number;
  /** Whether admins may change queues from the board at /admin/queues (retry, clean, pause, add); else it only shows them. */
  queueBoardWritable: boolean;
  /** When set, /metrics answers only `Authorization: Bearer` with this token. */
  metricsToken?: string;
  /** How long a rotated-out signing secret keeps signing, ms. */
  secretOverlapMs: number;
  /** A subscription that has only failed for this long is disabled, ms. */
  disableAfterMs: number;
  /** Consecutive failures that open an endpoint's circuit, and how long it stays open (ms): doubled by each failed probe, up to the longest. */
  circuit: { failuresToOpen: number; cooldownMs: number; longestCooldownMs: number };
  /** How long past its due time a delivery or a route job may be missing before the reconciler puts it back, ms. */
  reconcileAfterMs: number;
  /** How long a worker's hold on a job lasts unless renewed: a dead worker's jobs are taken over after about this long, ms. */
  jobLockMs: number;
  /** How long SIGTERM waits for work in flight before the process exits anyway, ms. */
  shutdownGraceMs: number;
  logLevel: string;
}

/** The settings an app runs with: a Redis to run on is known. */
export type RunConfig = Config & ({ redisUrl: string } | { redisClusterNodes: RedisNode[] });

/** The config, if it names a Redis or a cluster to run on. */
export function runnable(config: Config): RunConfig | undefined {
  return config.redisUrl !== undefined || config.redisClusterNodes !== undefined ? (config as RunConfig) : undefined;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * The keys with HOOKBUS_SEALING_KEY (a key id) sealing; unset, the first key seals, as it did
 * before the setting existed. Naming the sealing key apart from the list is what makes a
 * rotation two deploys rather than one: the new key is added first, sealing only later.
 */
function sealingWith(keys: SecretBox, sealingKeyId: string | undefined): SecretBox {
  if (sealingKeyId === undefined) return keys;
  try {
    return keys.withSealingKey(sealingKeyId);
  } catch (error) {
    throw new ConfigError(`invalid environment:\n  HOOKBUS_SEALING_KEY: ${(error as Error).message}`);
  }
}

/** Parses the environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const tooLong = scheduleBeyondRetention(e.HOOKBUS_RETRY_SCHEDULE, e.HOOKBUS_RETENTION);
  if (tooLong) throw new ConfigError(`invalid environment:\n  HOOKBUS_RETRY_SCHEDULE: ${tooLong}`);
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError(
      "invalid environment:\n  REDIS_CLUSTER_NODES: set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a cluster), not both",
    );
  }
  const encryption = sealingWith(e.HOOKBUS_ENCRYPTION_KEY, e.HOOKBUS_SEALING_KEY);
  return {
    redisUrl: e.REDIS_URL,
    redisClusterNodes: e.REDIS_CLUSTER_NODES,
    redisPassword: e.REDIS_PASSWORD,
    replicaWait:
      e.HOOKBUS_REDIS_WAIT_REPLICAS > 0 ? { replicas: e.HOOKBUS_REDIS_WAIT_REPLICAS, timeoutMs: e.HOOKBUS_REDIS_WAIT_TIMEOUT } : undefined,
    port: e.PORT,
    host: e.HOST,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    apiKeys: e.HOOKBUS_API_KEYS,
    allowedNetworks: e.HOOKBUS_ALLOWED_NETWORKS,
    encryption,
    retrySchedule: e.HOOKBUS_RETRY_SCHEDULE,
    queuePrefix: e.HOOKBUS_QUEUE_PREFIX,
    partitions: e.HOOKBUS_PARTITIONS ?? (e.REDIS_CLUSTER_NODES ? CLUSTER_PARTITIONS : 1),
    retentionMs: e.HOOKBUS_RETENTION,
    auditRetentionMs: e.HOOKBUS_AUDIT_RETENTION,
    asyncConcurrency: e.HOOKBUS_ASYNC_CONCURRENCY,
    syncConcurrency: e.HOOKBUS_SYNC_CONCURRENCY,
    rateLimitPerSecond: e.HOOKBUS_RATE_LIMIT,
    authFailureLimit: e.HOOKBUS_AUTH_FAILURE_LIMIT,
    maxSyncWaits: e.HOOKBUS_MAX_SYNC_WAITS,
    queueBoardWritable: e.HOOKBUS_QUEUE_BOARD_WRITABLE,
    metricsToken: e.HOOKBUS_METRICS_TOKEN,
    secretOverlapMs: e.HOOKBUS_SECRET_OVERLAP,
    disableAfterMs: e.HOOKBUS_DISABLE_AFTER,
    circuit: {
      failuresToOpen: e.HOOKBUS_CIRCUIT_FAILURES,
      cooldownMs: e.HOOKBUS_CIRCUIT_COOLDOWN,
      longestCooldownMs: Math.max(e.HOOKBUS_CIRCUIT_COOLDOWN, e.HOOKBUS_CIRCUIT_MAX_COOLDOWN),
    },
    reconcileAfterMs: e.HOOKBUS_RECONCILE_AFTER,
    jobLockMs: e.HOOKBUS_JOB_LOCK,
    shutdownGraceMs: e.HOOKBUS_SHUTDOWN_GRACE,
    logLevel: e.LOG_LEVEL,
  };
}
