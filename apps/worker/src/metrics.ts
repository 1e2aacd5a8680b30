import { Counter, Histogram, type Registry } from "prom-client";
import type { DeliveryStatus, EventRecord } from "@hookbus/core/policy";
import { DURATION_BUCKETS } from "@hookbus/core/runtime";
import type { AttemptResult } from "./delivery/http-client.js";

/** End-to-end latency buckets (seconds): a sub-second first attempt up to a day of retries. */
const END_TO_END_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 1800, 7200, 86400];

/** The worker's delivery metrics. Labels are bounded: event type and outcome, never a URL or an id. */
export class WorkerMetrics {
  private readonly attempts: Counter<"event_type" | "outcome">;
  private readonly attemptDuration: Histogram<"event_type">;
  private readonly endToEnd: Histogram<"event_type">;
  private readonly retries: Counter<"event_type">;
  private readonly deadLettered: Counter<"event_type">;
  private readonly waits: Counter<"reason">;
  private readonly disabled: Counter<"reason">;
  private readonly slotOverhold: Histogram;

  constructor(registry: Registry) {
    this.attempts = new Counter({
      name: "hookbus_delivery_attempts_total",
      help: "Delivery attempts by event type and outcome (delivered, http_error, timeout, connection, dns, ssrf_blocked).",
      labelNames: ["event_type", "outcome"],
      registers: [registry],
    });
    this.attemptDuration = new Histogram({
      name: "hookbus_delivery_attempt_duration_seconds",
      help: "Duration of one HTTP delivery attempt.",
      labelNames: ["event_type"],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    this.endToEnd = new Histogram({
      name: "hookbus_delivery_latency_seconds",
      help: "From publish to successful delivery, retries included.",
      labelNames: ["event_type"],
      buckets: END_TO_END_BUCKETS,
      registers: [registry],
    });
    this.retries = new Counter({
      name: "hookbus_delivery_retries_scheduled_total",
      help: "Failed attempts followed by a scheduled retry.",
      labelNames: ["event_type"],
      registers: [registry],
    });
    this.deadLettered = new Counter({
      name: "hookbus_deliveries_dead_lettered_total",
      help: "Deliveries that failed their last attempt.",
      labelNames: ["event_type"],
      registers: [registry],
    });
    this.waits = new Counter({
      name: "hookbus_delivery_waits_total",
      help: "Deliveries put back to wait without an attempt, by reason (circuit_open, at_capacity, rate_limited, attempt_running: another process is attempting the same delivery; in_lane: an earlier delivery or event of its ordering key goes first).",
      labelNames: ["reason"],
      registers: [registry],
    });
    this.slotOverhold = new Histogram({
      name: "hookbus_endpoint_slot_overhold_seconds",
      help: "How long an attempt held its endpoint slot beyond the receiver's answer: the gate, recording the attempt and freeing the slot.",
      buckets: [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
    this.disabled = new Counter({
      name: "hookbus_subscriptions_disabled_total",
      help: "Subscriptions disabled by a worker, by reason (gone: the endpoint answered 410; failing: it failed for HOOKBUS_DISABLE_AFTER).",
      labelNames: ["reason"],
      registers: [registry],
    });
  }

  recordWait(reason: "circuit_open" | "at_capacity" | "rate_limited" | "attempt_running" | "in_lane"): void {
    this.waits.inc({ reason });
  }

  /** An attempt held its slot for `heldMs` from the gate's go to its release, `answerMs` of it waiting on the receiver. */
  recordSlotHold(heldMs: number, answerMs: number): void {
    this.slotOverhold.observe(Math.max(0, heldMs - answerMs) / 1000);
  }

  recordDisabled(reason: string): void {
    this.disabled.inc({ reason });
  }

  recordAttempt(event: EventRecord, result: AttemptResult, status: DeliveryStatus): void {
    const eventType = event.type;
    const outcome = result.ok ? "delivered" : result.error === "http" ? "http_error" : (result.error ?? "connection");
    this.attempts.inc({ event_type: eventType, outcome });
    this.attemptDuration.observe({ event_type: eventType }, result.durationMs / 1000);
    if (status === "delivered") this.endToEnd.observe({ event_type: eventType }, (Date.now() - event.createdAt) / 1000);
    if (status === "retrying") this.retries.inc({ event_type: eventType });
    if (status === "failed") this.deadLettered.inc({ event_type: eventType });
  }
}
