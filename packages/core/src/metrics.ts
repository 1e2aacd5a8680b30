import { collectDefaultMetrics, Registry } from "prom-client";

/** A registry per process with Node's default metrics; each app adds its own `hookbus_` metrics. */
export function createMetricsRegistry(app: "ingest" | "worker"): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: "hookbus_" });
  return registry;
}

/** Histogram buckets in seconds for HTTP and delivery durations: 1 ms to 60 s. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
