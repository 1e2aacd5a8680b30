import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import getPort from "get-port";
import { askOnce, RedisServerMissingError, redisServerAvailable, spawnRedisServer, type EmbeddedRedis } from "./index.js";

export interface EmbeddedCluster {
  /** `host:port,host:port,...`: what REDIS_CLUSTER_NODES takes. */
  nodes: string;
  masters: EmbeddedRedis[];
  replicas: EmbeddedRedis[];
  /** Starts a node that was stopped or killed again, on its port with its own nodes.conf: it rejoins the cluster (as a replica, once another took over). */
  restart(node: EmbeddedRedis): Promise<EmbeddedRedis>;
  stop(): Promise<void>;
}

export interface EmbeddedClusterOptions {
  masters?: number;
  /** Replicas per master (failover tests); 0 by default. */
  replicasPerMaster?: number;
}

/**
 * A Redis Cluster on free loopback ports, made of plain redis-server processes: each node runs
 * with `cluster-enabled yes` in a fresh directory (so no stale nodes.conf is read), then
 * `redis-cli --cluster create` assigns the slots, and this waits for `cluster_state:ok` on
 * every node. Tests and `npm run bench` run Hookbus against it through REDIS_CLUSTER_NODES.
 */
export async function startEmbeddedCluster(options: EmbeddedClusterOptions = {}): Promise<EmbeddedCluster> {
  if (!redisServerAvailable()) throw new RedisServerMissingError();
  const masterCount = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 0;
  const dir = mkdtempSync(join(tmpdir(), "redis-cluster-"));
  const servers: EmbeddedRedis[] = [];
  const startNode = (port: number) =>
    spawnRedisServer(port, [
      ...["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000"],
      ...["--dir", dir, "--appendonly", "no", "--save", ""],
    ]);
  try {
    for (let i = 0; i < masterCount * (1 + replicasPerMaster); i++) servers.push(await startNode(await clusterPort()));
    const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
    await createCluster(addresses, replicasPerMaster);
    for (const server of servers) await waitForClusterOk(server.port);
    // A replica that has not synced with its master yet could not take over from it.
    for (const replica of servers.slice(masterCount)) await waitFor(replica.port, "INFO replication", "master_link_status:up");
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // redis-cli makes the first `masterCount` addresses masters, the rest their replicas.
  return {
    nodes: servers
      .slice(0, masterCount)
      .map((server) => `127.0.0.1:${server.port}`)
      .join(","),
    masters: servers.slice(0, masterCount),
    replicas: servers.slice(masterCount),
    restart: async (node) => {
      const restarted = await startNode(node.port);
      servers[servers.indexOf(node)] = restarted;
      return restarted;
    },
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A free port whose cluster bus port (the port + 10000) is free too, and under 65536. Drawn at
 * random: processes starting clusters at once would otherwise try the same ports in turn.
 */
async function clusterPort(): Promise<number> {
  for (;;) {
    const port = randomInt(20_000, 55_000);
    const free = async (candidate: number) => (await getPort({ host: "127.0.0.1", port: candidate })) === candidate;
    if ((await free(port)) && (await free(port + 10_000))) return port;
  }
}

function createCluster(addresses: string[], replicasPerMaster: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "redis-cli",
      ["--cluster", "create", ...addresses, "--cluster-replicas", String(replicasPerMaster), "--cluster-yes"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (data) => (output += data));
    child.stderr.on("data", (data) => (output += data));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create exited ${code}:\n${output}`))));
  });
}

function waitForClusterOk(port: number): Promise<void> {
  return waitFor(port, "CLUSTER INFO", "cluster_state:ok");
}

/** Asks a node `command` until its reply includes `expected`. */
async function waitFor(port: number, command: string, expected: string, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await askOnce(port, command, (reply) => reply.includes(expected))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the cluster node on port ${port} did not answer ${command} with ${expected} within ${deadlineMs} ms`);
}
