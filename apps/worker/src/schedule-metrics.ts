import { Counter, Histogram, type Registry } from "prom-client";
import type { ScheduleRun } from "@hookbus/core/flows";

/** Lag buckets (seconds): a timer on time, a busy worker, up to a worker gone for hours. */
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600, 86400];

/** What schedules did. Labels are bounded: how a fire came to be, never a schedule's id or name. */
export class ScheduleMetrics {
  private readonly fires: Counter<"timing">;
  private readonly missed: Counter<"outcome">;
  private readonly lag: Histogram;

  constructor(registry: Registry) {
    this.fires = new Counter({
      name: "hookbus_schedule_fires_total",
      help: "schedule.triggered events a schedule fired, by timing (on_time, or catch_up: making up a missed one).",
      labelNames: ["timing"],
      registers: [registry],
    });
    this.missed = new Counter({
      name: "hookbus_schedule_fires_missed_total",
      help: "Planned fires missed while nothing ran (workers down, the schedule paused), by outcome (made_up by catchUp, or skipped).",
      labelNames: ["outcome"],
      registers: [registry],
    });
    this.lag = new Histogram({
      name: "hookbus_schedule_fire_lag_seconds",
      help: "How long after its planned time a fire was made.",
      buckets: LAG_BUCKETS,
      registers: [registry],
    });
  }

  observe(run: ScheduleRun): void {
    const newest = run.fire[run.fire.length - 1];
    for (const fire of run.fired) {
      this.lag.observe((fire.firedAt - fire.plannedAt) / 1000);
      this.fires.inc({ timing: run.onTime && fire.plannedAt === newest ? "on_time" : "catch_up" });
    }
    const madeUp = run.fire.length - (run.onTime ? 1 : 0);
    if (madeUp > 0) this.missed.inc({ outcome: "made_up" }, madeUp);
    if (run.missed > madeUp) this.missed.inc({ outcome: "skipped" }, run.missed - madeUp);
  }
}
