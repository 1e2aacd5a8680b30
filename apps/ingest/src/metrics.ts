import type { RequestHandler } from "express";
import { Counter, Histogram, type Registry } from "prom-client";
import { DURATION_BUCKETS } from "@hookbus/core/runtime";

/** Where events are published. */
const PUBLISH_PATHS = new Set(["/v1/events", "/v1/events/batch"]);

/** The ingest's metrics. Labels are bounded: route patterns, status classes, event types, reasons. */
export class IngestMetrics {
  readonly eventsAccepted: Counter<"event_type">;
  readonly eventsRejected: Counter<"reason">;
  readonly syncWait: Histogram<"outcome">;
  readonly replays: Counter<"kind">;
  private readonly requestDuration: Histogram<"method" | "route" | "status_class">;

  constructor(registry: Registry) {
    this.eventsAccepted = new Counter({
      name: "hookbus_events_accepted_total",
      help: "Events stored and enqueued, by type (repeated idempotency keys not counted).",
      labelNames: ["event_type"],
      registers: [registry],
    });
    this.eventsRejected = new Counter({
      name: "hookbus_events_rejected_total",
      help: "Publish requests (single, or a batch as a whole) refused, by reason (validation, auth, too_large, not_json, malformed, rate_limited, server_error, other).",
      labelNames: ["reason"],
      registers: [registry],
    });
    this.syncWait = new Histogram({
      name: "hookbus_sync_wait_duration_seconds",
      help: "How long a sync publish waited for a receiver's answer, by outcome.",
      labelNames: ["outcome"],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    this.replays = new Counter({
      name: "hookbus_replays_total",
      help: "Replays requested by admins: single deliveries, and bulk replays started.",
      labelNames: ["kind"],
      registers: [registry],
    });
    this.requestDuration = new Histogram({
      name: "hookbus_http_request_duration_seconds",
      help: "Ingest HTTP request duration by route pattern and status class.",
      labelNames: ["method", "route", "status_class"],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
  }

  /** Times each request; the label is the matched route pattern, never the raw path. */
  middleware(): RequestHandler {
    return (request, response, next) => {
      const started = performance.now();
      response.on("finish", () => {
        const route = request.route?.path ? `${request.baseUrl}${String(request.route.path)}` : "unmatched";
        const statusClass = `${Math.floor(response.statusCode / 100)}xx`;
        this.requestDuration.observe({ method: request.method, route, status_class: statusClass }, (performance.now() - started) / 1000);
        // A batch refused as a whole counts once; its items refused one by one are in its 202 answer.
        if (request.method === "POST" && PUBLISH_PATHS.has(request.path) && response.statusCode >= 400) {
          this.eventsRejected.inc({ reason: rejectionReason(response.statusCode) });
        }
      });
      next();
    };
  }
}

function rejectionReason(status: number): string {
  switch (status) {
    case 400:
      return "malformed";
    case 401:
    case 403:
      return "auth";
    case 413:
      return "too_large";
    case 415:
      return "not_json";
    case 422:
      return "validation";
    case 429:
      return "rate_limited";
    default:
      return status >= 500 ? "server_error" : "other";
  }
}
