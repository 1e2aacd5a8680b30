import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { surveySubmitted as survey } from "../fixtures/events.js";
import { join } from "node:path";
import type { RunningWorker } from "@hookbus/worker";
import { TestHookbus } from "../support/harness.js";
import { TestReceiver } from "../support/receiver.js";
import { PROMETHEUS_DEPLOY_DIR, scrape, testWhenInstalled } from "./support.js";

const maybe = testWhenInstalled("promtool", "Debian/Ubuntu: apt-get install prometheus");

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync("promtool", args, { input, encoding: "utf8", cwd: PROMETHEUS_DEPLOY_DIR });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** promtool's lint findings on a /metrics text, one per line; none means it is clean. */
function metricsFindings(text: string): string[] {
  const { output } = promtool(["check", "metrics"], text);
  return output.split("\n").filter(Boolean);
}

let hookbus: TestHookbus;
let worker: RunningWorker;
let receiver: TestReceiver;

beforeAll(async () => {
  hookbus = await TestHookbus.start({ worker: false });
  worker = await hookbus.startWorker();
  receiver = await TestReceiver.start((_request, index) => ({ status: index === 0 ? 500 : 200 }));
  // Traffic first, so that every labelled metric has samples to lint: an accepted event, a
  // rejected one, a failed attempt, a retry and a delivery.
  await hookbus.createSubscription({ url: receiver.url, eventTypes: ["survey.submitted"], retrySchedule: ["10ms"] });
  const published = await hookbus.publish(survey());
  if (published.status !== 202) throw new Error(`publish answered ${published.status}: ${JSON.stringify(published.body)}`);
  await hookbus.publish({ type: "survey.submitted", data: {} });
  const [delivery] = await hookbus.deliveriesOf(published.body.id);
  await hookbus.deliveryWithStatus(delivery.id, "delivered");
});

afterAll(async () => {
  await hookbus.stop();
  await receiver.stop();
});

maybe("promtool finds nothing to fix in the ingest's /metrics", async () => {
  const text = await scrape(`${hookbus.url}/metrics`);
  expect(text).toContain("hookbus_events_accepted_total{");
  expect(metricsFindings(text)).toEqual([]);
});

maybe("promtool finds nothing to fix in the worker's /metrics", async () => {
  const text = await scrape(`http://127.0.0.1:${worker.metricsPort}/metrics`);
  expect(text).toContain("hookbus_delivery_retries_scheduled_total{");
  expect(text).toContain("hookbus_queue_jobs{");
  expect(metricsFindings(text)).toEqual([]);
});

maybe("the alert rules are valid", () => {
  const result = promtool(["check", "rules", join(PROMETHEUS_DEPLOY_DIR, "alerts.yml")]);
  expect(result).toEqual({ status: 0, output: expect.stringContaining("SUCCESS") });
});

maybe("each alert fires on its failing series and stays quiet on a healthy one (alerts.test.yml)", () => {
  const result = promtool(["test", "rules", "alerts.test.yml"]);
  expect(result).toEqual({ status: 0, output: expect.stringContaining("SUCCESS") });
});

maybe("the compose Prometheus config is valid, loads the alert rules and sends the metrics token", () => {
  // promtool checks that the token file exists: point a copy at one, as compose mounts it.
  const dir = mkdtempSync(join(tmpdir(), "hookbus-prometheus-"));
  try {
    const config = readFileSync(join(PROMETHEUS_DEPLOY_DIR, "prometheus.yml"), "utf8");
    expect(config.match(/credentials_file: \/run\/secrets\/metrics_token/g)).toHaveLength(2);
    writeFileSync(join(dir, "metrics_token"), "token-0123456789abcdef");
    writeFileSync(join(dir, "prometheus.yml"), config.replaceAll("/run/secrets/metrics_token", join(dir, "metrics_token")));
    copyFileSync(join(PROMETHEUS_DEPLOY_DIR, "alerts.yml"), join(dir, "alerts.yml"));
    const result = promtool(["check", "config", join(dir, "prometheus.yml")]);
    expect(result).toEqual({ status: 0, output: expect.stringContaining("1 rule files found") });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
