import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { rewriteAppendOnlyFile } from "@hookbus/core/store";
import { startEmbeddedRedis, type EmbeddedRedis } from "@hookbus/dev-redis";

const started: EmbeddedRedis[] = [];
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(started.map((r) => r.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The rewrite's outcome on a Redis of its own, started with these persistence settings. */
async function rewriteOn(withAof: boolean, settings: string[] = []) {
  const dataDir = withAof ? mkdtempSync(join(tmpdir(), "hookbus-aof-")) : undefined;
  if (dataDir) dirs.push(dataDir);
  const redis = await startEmbeddedRedis({ dataDir, settings });
  started.push(redis);
  const connection = new Redis(redis.url);
  try {
    await connection.set("k", "v");
    return { outcome: await rewriteAppendOnlyFile(connection), info: await connection.info("persistence") };
  } finally {
    connection.disconnect();
  }
}

test("with an append-only file, the rewrite is waited for until Redis says it has ended", async () => {
  const { outcome, info } = await rewriteOn(true);
  expect(outcome.status).toBe("rewritten");
  expect(info).toContain("aof_rewrite_in_progress:0");
  expect(info).toContain("aof_last_bgrewrite_status:ok");
  expect(info).toContain("aof_rewrites:1");
});

test("a Redis that renamed BGREWRITEAOF (as managed services do) is reported as refusing, in its own words", async () => {
  const { outcome } = await rewriteOn(true, ["--rename-command", "BGREWRITEAOF", ""]);
  expect(outcome).toMatchObject({ status: "refused", message: expect.stringContaining("unknown command") });
});

test("a Redis keeping no append-only file has nothing to rewrite", async () => {
  expect((await rewriteOn(false)).outcome.status).toBe("not_enabled");
});
