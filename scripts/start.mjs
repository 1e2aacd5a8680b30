#!/usr/bin/env node
// `npm start`: ingest and worker on one machine. With neither REDIS_URL nor REDIS_CLUSTER_NODES it runs its own
// redis-server (append-only, data under HOOKBUS_DATA_DIR, default .hookbus/); with no API
// keys it makes one of each; with no encryption key it makes one and keeps it beside the data.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { newEncryptionKey } from "@hookbus/core/policy";
import { RedisServerMissingError, startEmbeddedRedis } from "@hookbus/dev-redis";

const root = fileURLToPath(new URL("..", import.meta.url));
const env = { ...process.env };
const dataDir = env.HOOKBUS_DATA_DIR ?? `${root}.hookbus`;
let embedded;

if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES) {
  try {
    embedded = await startEmbeddedRedis({ dataDir: `${dataDir}/redis` });
  } catch (error) {
    console.error(error instanceof RedisServerMissingError ? error.message : `could not start redis-server: ${error.message}`);
    process.exit(1);
  }
  env.REDIS_URL = embedded.url;
  console.log(`hookbus: started redis-server on ${embedded.url} (append-only, data in ${env.HOOKBUS_DATA_DIR ?? ".hookbus"}/redis)`);
}

if (!env.HOOKBUS_API_KEYS) {
  const admin = `hb_admin_${randomBytes(18).toString("base64url")}`;
  const publisher = `hb_pub_${randomBytes(18).toString("base64url")}`;
  env.HOOKBUS_API_KEYS = `admin:${admin},publisher:${publisher}`;
  console.log(
    `hookbus: made API keys for this run (set HOOKBUS_API_KEYS to choose your own)\n  admin:     ${admin}\n  publisher: ${publisher}`,
  );
}

// The key must outlive the run: the secrets in Redis can only be read with it.
if (!env.HOOKBUS_ENCRYPTION_KEY) {
  const keyFile = `${dataDir}/encryption.key`;
  if (!existsSync(keyFile)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(keyFile, `${newEncryptionKey()}\n`, { mode: 0o600, flag: "wx" });
    console.log(`hookbus: made an encryption key for secrets at rest in ${keyFile} (keep it with the data, or set HOOKBUS_ENCRYPTION_KEY)`);
  }
  env.HOOKBUS_ENCRYPTION_KEY = readFileSync(keyFile, "utf8").trim();
}

// The SSRF guard stays on here too: a local receiver is reached only once allow-listed.
console.log(
  env.HOOKBUS_ALLOWED_NETWORKS
    ? `hookbus: webhooks may reach public addresses and ${env.HOOKBUS_ALLOWED_NETWORKS} (HOOKBUS_ALLOWED_NETWORKS)`
    : "hookbus: webhooks may reach public addresses only; to allow a local receiver set HOOKBUS_ALLOWED_NETWORKS=127.0.0.1/32",
);
const port = env.PORT ?? "8080";
console.log(`hookbus: ingest on http://127.0.0.1:${port}, worker metrics on :${env.WORKER_METRICS_PORT ?? "9091"}`);

const children = ["apps/ingest/dist/main.js", "apps/worker/dist/main.js"].map((script) =>
  spawn(process.execPath, [script], { cwd: root, env, stdio: "inherit" }),
);

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(
      (child) => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", resolve), child.kill("SIGTERM")))),
    ),
  );
  await embedded?.stop();
  process.exit(code);
}
for (const child of children) child.once("exit", (code) => void stop(code ?? 1));
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
