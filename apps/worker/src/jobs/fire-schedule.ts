import type { Job } from "bullmq";
import { fireSchedule, type FireContext } from "@hookbus/core/flows";
import { wakeUpTime, type ScheduleJobData } from "@hookbus/core/queue";
import type { Logger } from "@hookbus/core/runtime";
import type { ScheduleMetrics } from "../schedule-metrics.js";

/** A schedule's wake-up: fires what is due (see fireSchedule), and counts it. */
export async function runScheduleWakeUp(
  context: FireContext,
  metrics: ScheduleMetrics,
  logger: Logger,
  job: Job<ScheduleJobData>,
): Promise<void> {
  const run = await fireSchedule(context, job.data.scheduleId, wakeUpTime(job));
  if (!run) return;
  metrics.observe(run);
  if (run.fired.length > 0 || run.missed > 0)
    logger.debug(
      { scheduleId: job.data.scheduleId, eventIds: run.fired.map((f) => f.eventId), missed: run.missed, ended: run.ended },
      "schedule fired",
    );
}
