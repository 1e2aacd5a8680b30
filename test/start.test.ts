import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { Webhook } from "standardwebhooks";
import { surveySubmitted } from "./fixtures/events.js";
import { waitFor } from "./support/harness.js";
import { TestReceiver } from "./support/receiver.js";

const START = fileURLToPath(new URL("../scripts/start.mjs", import.meta.url));

interface Launched {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(env: Record<string, string>): Launched {
  const child = spawn(process.execPath, [START], { env: { ...env, LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  // "close", not "exit": the output is all in only once its streams have closed.
  return { child, output: () => output, exited: new Promise((resolve) => child.once("close", resolve)) };
}

test("npm start runs its own Redis, ingest and worker, keeps the SSRF guard on, delivers, and stops cleanly on SIGTERM", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookbus-start-"));
  const [port, metricsPort] = [await getPort(), await getPort()];
  const receiver = await TestReceiver.start();
  const hookbus = launch({
    PATH: process.env.PATH!,
    PORT: String(port),
    WORKER_METRICS_PORT: String(metricsPort),
    HOST: "127.0.0.1",
    HOOKBUS_DATA_DIR: dataDir,
    HOOKBUS_ALLOWED_NETWORKS: "127.0.0.1/32",
  });
  try {
    // The whole banner, up to its last line: the output arrives in chunks, a line at a time
    // or in the middle of one, and a key or a line after it may not be in yet.
    const keys = await waitFor(
      () =>
        (/hookbus: ingest on .*\n/.test(hookbus.output()) && /admin:\s+(\S+)\n\s+publisher:\s+(\S+)\n/.exec(hookbus.output())) ?? undefined,
      "the banner with the keys it made",
      20_000,
    );
    const [, adminKey, publisherKey] = keys;
    expect(hookbus.output()).toMatch(/started redis-server on redis:\/\/127\.0\.0\.1:\d+ \(append-only/);
    expect(hookbus.output()).toContain("webhooks may reach public addresses and 127.0.0.1/32 (HOOKBUS_ALLOWED_NETWORKS)");
    expect(hookbus.output()).toContain(`made an encryption key for secrets at rest in ${dataDir}/encryption.key`);
    expect(Buffer.from(readFileSync(join(dataDir, "encryption.key"), "utf8").trim(), "base64")).toHaveLength(32);
    expect(statSync(join(dataDir, "encryption.key")).mode & 0o077).toBe(0);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, "the ingest to be ready", 20_000, 100);
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.ok,
      "the worker to be ready",
      20_000,
      100,
    );

    const call = (path: string, key: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const outsideAllowList = await call("/v1/subscriptions", adminKey!, { url: "http://127.0.0.2:9/x", eventTypes: ["survey.submitted"] });
    expect(outsideAllowList.status).toBe(422);
    expect(((await outsideAllowList.json()) as { error: string }).error).toContain("127.0.0.0/8 (loopback)");
    const subscription = (await (
      await call("/v1/subscriptions", adminKey!, { url: receiver.url, eventTypes: ["survey.submitted"] })
    ).json()) as { secret: string };
    expect((await call("/v1/events", publisherKey!, surveySubmitted())).status).toBe(202);
    const [request] = await receiver.waitForRequests(1);
    expect(() => new Webhook(subscription.secret).verify(request!.body, request!.headers as Record<string, string>)).not.toThrow();

    hookbus.child.kill("SIGTERM");
    expect(await hookbus.exited).toBe(0);
  } finally {
    hookbus.child.kill("SIGKILL");
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("npm start without redis-server on the PATH exits non-zero and says how to install one", async () => {
  const hookbus = launch({ PATH: "/nonexistent" });
  expect(await hookbus.exited).toBe(1);
  expect(hookbus.output()).toMatch(/redis-server was not found on PATH.*apt-get install redis-server.*REDIS_URL/s);
});

test("npm start with no allow-list refuses a loopback subscription and says how to allow one", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "hookbus-start-"));
  const port = await getPort();
  const hookbus = launch({
    PATH: process.env.PATH!,
    PORT: String(port),
    WORKER_METRICS_PORT: String(await getPort()),
    HOST: "127.0.0.1",
    HOOKBUS_DATA_DIR: dataDir,
  });
  try {
    const [, adminKey] = await waitFor(() => /admin:\s+(\S+)\n/.exec(hookbus.output()) ?? undefined, "the keys it made", 20_000);
    // The banner follows the keys, maybe in a later chunk of output.
    await waitFor(
      () =>
        hookbus
          .output()
          .includes("webhooks may reach public addresses only; to allow a local receiver set HOOKBUS_ALLOWED_NETWORKS=127.0.0.1/32"),
      "the allow-list banner",
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok, "the ingest to be ready", 20_000, 100);
    const refused = await fetch(`${base}/v1/subscriptions`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ url: "http://127.0.0.1:9/x", eventTypes: ["survey.submitted"] }),
    });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: string }).error).toContain("127.0.0.0/8 (loopback)");
    hookbus.child.kill("SIGTERM");
    expect(await hookbus.exited).toBe(0);
  } finally {
    hookbus.child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
});
