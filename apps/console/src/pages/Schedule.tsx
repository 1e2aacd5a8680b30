import type { ScheduleFireView } from "@hookbus/schemas";
import { LoadingLine, Problem } from "../components/Status.js";
import { when } from "../format.js";
import { href } from "../router.js";
import { CATCH_UP_WORDS, SCHEDULE_STATUS_WORDS, timingInWords } from "../schedule-words.js";
import { useSession } from "../session.js";
import { useLoad } from "../use-load.js";
import { RecordTable } from "../components/RecordTable.js";

/** One schedule: what it is, and its latest fires, each linked to the deliveries of the event it published. */
export function SchedulePage({ id }: { id: string }) {
  const { hookbus } = useSession();
  const [loaded] = useLoad(() => hookbus.schedules.get(id), [id]);
  if (loaded.state === "loading") return <LoadingLine what="the schedule" />;
  if (loaded.state === "error") return <Problem>{loaded.message}</Problem>;
  const schedule = loaded.value;
  return (
    <section aria-labelledby="schedule-title">
      <div class="page-head">
        <h1 id="schedule-title">
          {schedule.name} for {schedule.data.participantIdentifier}
        </h1>
        <a href={href("schedules")}>All schedules</a>
      </div>
      <dl class="card facts">
        <dt>When</dt>
        <dd>{timingInWords(schedule)}</dd>
        <dt>Status</dt>
        <dd>{SCHEDULE_STATUS_WORDS[schedule.status]}</dd>
        <dt>Next fire</dt>
        <dd>{schedule.nextFireAt ? when(schedule.nextFireAt) : "none"}</dd>
        <dt>After an outage</dt>
        <dd>{CATCH_UP_WORDS[schedule.catchUp]}</dd>
        <dt>Fires so far</dt>
        <dd>{schedule.fires}</dd>
      </dl>
      <h2>Recent fires</h2>
      {schedule.recentFires.length === 0 ? (
        <p class="card empty">It has not fired yet.</p>
      ) : (
        <RecordTable kind="fires" columns={["Planned", "Fired", "Deliveries"]}>
          {schedule.recentFires.map((fire) => (
            <FireRow key={fire.eventId} fire={fire} />
          ))}
        </RecordTable>
      )}
    </section>
  );
}

function FireRow({ fire }: { fire: ScheduleFireView }) {
  const { hookbus } = useSession();
  const [event] = useLoad(() => hookbus.events.get(fire.eventId), [fire.eventId]);
  return (
    <tr data-event-id={fire.eventId}>
      <td>
        <time dateTime={fire.plannedAt}>{when(fire.plannedAt)}</time>
      </td>
      <td>
        <time dateTime={fire.firedAt}>{when(fire.firedAt)}</time>
      </td>
      <td>
        {event.state === "loading" && "…"}
        {event.state === "error" && event.message}
        {event.state === "ready" &&
          (event.value.deliveries.length === 0
            ? "no webhook subscribed"
            : event.value.deliveries.map((d) => (
                <a key={d.id} class="delivery-link" href={href("deliveries", d.id)}>
                  {d.status}
                </a>
              )))}
      </td>
    </tr>
  );
}
