import { createHash, timingSafeEqual } from "node:crypto";
import { collectDefaultMetrics, Registry } from "prom-client";

/** A registry per process with Node's default metrics; each app adds its own `hookbus_` metrics. */
export function createMetricsRegistry(app: "ingest" | "worker"): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: "hookbus_" });
  // Gauges named *_total break Prometheus' naming rules (promtool flags them); each only
  // repeats the sum of its by-type series, which stay.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(`hookbus_${name}`);
  }
  return registry;
}

/** Histogram buckets in seconds for HTTP and delivery durations: 1 ms to 60 s. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Whether a request may read /metrics: always when no token is configured, otherwise only
 * with `Authorization: Bearer TOKEN` (Prometheus' `authorization` scrape option). Digests are
 * compared, in constant time, so neither the token nor its length leaks through timing.
 */
export function metricsAccessAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const presented = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1] ?? "";
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(presented), digest(token));
}
