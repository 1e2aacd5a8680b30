import type { Redis } from "ioredis";
import { dataNodes, type RedisConnection } from "./redis.js";

/** What became of the request to rewrite Redis's append-only file. */
export type AofRewriteOutcome =
  | { status: "rewritten"; finishedAt: number }
  /** Redis refused BGREWRITEAOF (renamed or disabled on managed services) or the rewrite failed. */
  | { status: "refused" | "failed"; finishedAt: number; message: string }
  /** Redis keeps no append-only file: there is nothing to rewrite. */
  | { status: "not_enabled"; finishedAt: number };

/** How often INFO persistence is read while a rewrite runs (ms). */
const POLL_MS = 100;

/**
 * Has Redis rewrite its append-only file and waits until the rewrite has ended: the new file
 * holds only what Redis holds now, so a value deleted before the call is no longer in any file
 * of the data directory (Redis deletes the old files once the rewrite is done). A rewrite
 * already running is waited for, and the one Redis schedules after it too.
 */
export async function rewriteAppendOnlyFile(redis: RedisConnection, deadlineMs = 10 * 60_000): Promise<AofRewriteOutcome> {
  // A cluster's every master rewrites its own file; the worst outcome is the erasure's.
  const outcomes = await Promise.all(dataNodes(redis).map((node) => rewriteOn(node, deadlineMs)));
  const worst = (status: AofRewriteOutcome["status"]) => outcomes.find((outcome) => outcome.status === status);
  return worst("refused") ?? worst("failed") ?? worst("rewritten") ?? outcomes[0]!;
}

async function rewriteOn(redis: Redis, deadlineMs: number): Promise<AofRewriteOutcome> {
  if ((await persistenceInfo(redis)).aof_enabled !== "1") return { status: "not_enabled", finishedAt: Date.now() };
  try {
    await redis.bgrewriteaof();
  } catch (error) {
    return { status: "refused", finishedAt: Date.now(), message: (error as Error).message };
  }
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const info = await persistenceInfo(redis);
    if (info.aof_rewrite_in_progress === "0" && info.aof_rewrite_scheduled === "0") {
      return info.aof_last_bgrewrite_status === "ok"
        ? { status: "rewritten", finishedAt: Date.now() }
        : { status: "failed", finishedAt: Date.now(), message: `aof_last_bgrewrite_status:${info.aof_last_bgrewrite_status}` };
    }
    if (Date.now() > deadline)
      return { status: "failed", finishedAt: Date.now(), message: `the rewrite had not ended after ${deadlineMs} ms` };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function persistenceInfo(redis: Redis): Promise<Record<string, string>> {
  const text = await redis.info("persistence");
  return Object.fromEntries(
    text
      .split("\r\n")
      .filter((line) => line.includes(":"))
      .map((line) => line.split(":", 2) as [string, string]),
  );
}
