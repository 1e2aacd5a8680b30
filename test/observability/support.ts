import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** deploy/prometheus in this checkout. */
export const PROMETHEUS_DEPLOY_DIR = fileURLToPath(new URL("../../deploy/prometheus/", import.meta.url));

/** Every PromQL expression of the Grafana dashboard, deploy/grafana/hookbus.json. */
export function dashboardQueries(): string[] {
  const file = fileURLToPath(new URL("../../deploy/grafana/hookbus.json", import.meta.url));
  const dashboard = JSON.parse(readFileSync(file, "utf8")) as { panels: { targets: { expr: string }[] }[] };
  return dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
}

/** True when `command --version` runs: the observability tools are optional on a developer machine. */
export function commandAvailable(command: string): boolean {
  return spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * `test` when the command is installed, otherwise `test.skip` with the reason in each test's
 * name and on stderr, so a machine without the tool reports skipped tests, never passes.
 */
export function testWhenInstalled(command: string, howToInstall: string): (name: string, fn: jest.ProvidesCallback) => void {
  if (commandAvailable(command)) return (name, fn) => test(name, fn);
  const reason = `${command} is not installed (${howToInstall})`;
  // Jest drops console output of a file whose tests all skip; stderr always shows.
  process.stderr.write(`skipping tests that need ${command}: ${reason}\n`);
  return (name, fn) => test.skip(`${name} [skipped: ${reason}]`, fn);
}

export async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return response.text();
}

/**
 * The value of one sample in Prometheus text format whose labels include `labels`, or
 * undefined when no such sample is exposed.
 */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return undefined;
}
