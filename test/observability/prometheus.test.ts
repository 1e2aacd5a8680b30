import { spawn, type ChildProcess } from "node:child_process";
import { surveySubmitted as survey } from "../fixtures/events.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningWorker } from "@hookbus/worker";
import { TestHookbus, waitFor } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";
import { commandAvailable, dashboardQueries, PROMETHEUS_DEPLOY_DIR, testWhenInstalled } from "./support.js";

const maybe = testWhenInstalled("prometheus", "Debian/Ubuntu: apt-get install prometheus");

/** A real Prometheus on a loopback port, scraping the given targets every second, with Hookbus's alert rules loaded. */
class TestPrometheus {
  private constructor(
    private readonly process: ChildProcess,
    private readonly dataDir: string,
    readonly url: string,
  ) {}

  static async start(targets: { ingest: string; worker: string }): Promise<TestPrometheus> {
    const dataDir = mkdtempSync(join(tmpdir(), "hookbus-prometheus-"));
    const config = {
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      rule_files: [join(PROMETHEUS_DEPLOY_DIR, "alerts.yml")],
      scrape_configs: [
        { job_name: "hookbus-ingest", static_configs: [{ targets: [targets.ingest] }] },
        { job_name: "hookbus-worker", static_configs: [{ targets: [targets.worker] }] },
      ],
    };
    // JSON is YAML: no YAML library needed to write the config.
    const configFile = join(dataDir, "prometheus.yml");
    writeFileSync(configFile, JSON.stringify(config));
    const port = await freeLoopbackPort();
    const child = spawn(
      "prometheus",
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dataDir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=error",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    const prometheus = new TestPrometheus(child, dataDir, `http://127.0.0.1:${port}`);
    await waitFor(
      async () =>
        child.exitCode === null &&
        (await fetch(`${prometheus.url}/-/ready`).then(
          (r) => r.ok,
          () => false,
        )),
      "prometheus to be ready",
      30_000,
      100,
    );
    return prometheus;
  }

  /** The value of an instant query that returns one series, or undefined while it returns none. */
  async scalar(promql: string): Promise<number | undefined> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const answer = (await response.json()) as { status: string; error?: string; data: { result: { value: [number, string] }[] } };
    if (answer.status !== "success") throw new Error(`query ${promql} failed: ${answer.error}`);
    const [first] = answer.data.result;
    return first ? Number(first.value[1]) : undefined;
  }

  async api<T>(path: string): Promise<T> {
    return ((await (await fetch(`${this.url}${path}`)).json()) as { data: T }).data;
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null) {
      await new Promise((resolve) => {
        this.process.once("exit", resolve);
        this.process.kill("SIGTERM");
      });
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let hookbus: TestHookbus;
let worker: RunningWorker;
let receiver: TestReceiver;
let prometheus: TestPrometheus;

beforeAll(async () => {
  hookbus = await TestHookbus.start({ worker: false });
  worker = await hookbus.startWorker();
  receiver = await TestReceiver.start();
  if (commandAvailable("prometheus")) {
    prometheus = await TestPrometheus.start({ ingest: `127.0.0.1:${hookbus.ingest.port}`, worker: `127.0.0.1:${worker.metricsPort}` });
  }
});

afterAll(async () => {
  await prometheus?.stop();
  await hookbus.stop();
  await receiver.stop();
});

maybe("Prometheus scrapes both apps and reads back the events accepted and the deliveries made", async () => {
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"] });
  for (let i = 0; i < 3; i++) expect((await hookbus.publish(survey())).status).toBe(202);
  expect((await hookbus.publish({ type: "survey.submitted", data: {} })).status).toBe(422);
  expect((await hookbus.api("POST", "/v1/events/batch", { events: [] })).status).toBe(422);
  await receiver.waitForRequests(3);

  const reads = (promql: string, expected: number) =>
    waitFor(async () => ((await prometheus.scalar(promql)) === expected ? true : undefined), `${promql} to be ${expected}`, 20_000, 250);
  await reads('sum(hookbus_events_accepted_total{job="hookbus-ingest",app="ingest",event_type="survey.submitted"})', 3);
  await reads('sum(hookbus_events_rejected_total{job="hookbus-ingest",reason="validation"})', 2);
  await reads(
    'sum(hookbus_delivery_attempts_total{job="hookbus-worker",app="worker",event_type="survey.submitted",outcome="delivered"})',
    3,
  );
  await reads('sum(hookbus_delivery_attempts_total{job="hookbus-worker",outcome!="delivered"}) or vector(0)', 0);
  await reads('sum(hookbus_delivery_latency_seconds_count{job="hookbus-worker",event_type="survey.submitted"})', 3);
  await reads('sum(up{job=~"hookbus-ingest|hookbus-worker"})', 2);
  await reads('count(hookbus_queue_jobs{job="hookbus-worker"})', 24); // 6 queues x 4 states
});

maybe("the alert rules evaluate without error on the live series and none fires on a healthy system", async () => {
  type RuleGroups = { groups: { rules: { name: string; health: string; lastError?: string; state: string }[] }[] };
  const rules = async () => (await prometheus.api<RuleGroups>("/api/v1/rules")).groups.flatMap((group) => group.rules);
  // Before the first scrape lands, HookbusNoWorkerRunning sees no `up` and is pending; a
  // healthy system settles with every rule evaluated and inactive.
  const settled = await waitFor(
    async () => {
      const all = await rules();
      return all.length > 0 && all.every((rule) => rule.health === "ok" && rule.state === "inactive") ? all : undefined;
    },
    "every alert rule to be evaluated, healthy and inactive",
    20_000,
    250,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(await rules())}`);
  });
  expect(settled.map((rule) => rule.name).sort()).toEqual([
    "HookbusBacklogOld",
    "HookbusDeadLettersGrowing",
    "HookbusDeliveryFailureRatioHigh",
    "HookbusIngestDown",
    "HookbusNoWorkerRunning",
    "HookbusWorkerDown",
  ]);
});

maybe("every query of the Grafana dashboard runs on the live series", async () => {
  // Grafana fills these in; any window the scrapes cover will do here.
  const queries = dashboardQueries().map((query) => query.replaceAll("$__rate_interval", "1m"));
  for (const query of queries) await expect(prometheus.scalar(query).then(() => "ran")).resolves.toBe("ran");
});
