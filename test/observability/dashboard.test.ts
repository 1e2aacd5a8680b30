import { readFileSync } from "node:fs";
import type { RunningWorker } from "@hookbus/worker";
import { TestHookbus } from "../support/harness.js";
import { dashboardQueries, PROMETHEUS_DEPLOY_DIR, scrape } from "./support.js";

/** The hookbus_ metric families an expression reads (histogram series mapped to their family). */
function metricFamilies(text: string): string[] {
  return [...text.matchAll(/\bhookbus_[a-z0-9_]+/g)].map(([name]) => name.replace(/_(bucket|sum|count)$/, ""));
}

let hookbus: TestHookbus;
let worker: RunningWorker;

beforeAll(async () => {
  hookbus = await TestHookbus.start({ worker: false });
  worker = await hookbus.startWorker();
});

afterAll(() => hookbus.stop());

test("the dashboard and the alert rules read only metrics that the ingest or the worker expose", async () => {
  const exposition = (await scrape(`${hookbus.url}/metrics`)) + (await scrape(`http://127.0.0.1:${worker.metricsPort}/metrics`));
  const exposed = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map(([, name]) => name));
  const alerts = readFileSync(`${PROMETHEUS_DEPLOY_DIR}/alerts.yml`, "utf8");
  const read = new Set([...dashboardQueries().flatMap(metricFamilies), ...metricFamilies(alerts)]);
  expect(read.size).toBeGreaterThan(5);
  expect([...read].filter((name) => !exposed.has(name))).toEqual([]);
});
