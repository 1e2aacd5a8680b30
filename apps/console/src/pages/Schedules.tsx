import { useState } from "preact/hooks";
import type { CatchUpPolicy, CreateScheduleBody, ScheduleView } from "@hookbus/schemas";
import { describeError, HookbusApiError } from "../api.js";
import { Field } from "../components/Field.js";
import { Badge, LoadingLine, Problem } from "../components/Status.js";
import { when } from "../format.js";
import { useProjectId } from "../project.js";
import { href } from "../router.js";
import { CATCH_UP_WORDS, cronInWords, SCHEDULE_STATUS_WORDS, timingInWords } from "../schedule-words.js";
import { useSession } from "../session.js";
import { useAction } from "../use-action.js";
import { useLoad } from "../use-load.js";
import { ACTIONS, RecordTable } from "../components/RecordTable.js";

/** The current project's schedules, each with its next fire; made and paused or resumed here. */
export function SchedulesPage() {
  const { hookbus } = useSession();
  const projectId = useProjectId();
  const [loaded, reload] = useLoad(async () => {
    const schedules: ScheduleView[] = [];
    for await (const schedule of hookbus.schedules.iterate({ projectId })) schedules.push(schedule);
    return schedules;
  }, [projectId]);
  return (
    <section aria-labelledby="schedules-title">
      <div class="page-head">
        <h1 id="schedules-title">Schedules</h1>
      </div>
      <NewScheduleForm projectId={projectId} onMade={reload} />
      {loaded.state === "loading" && <LoadingLine what="schedules" />}
      {loaded.state === "error" && <Problem>{loaded.message}</Problem>}
      {loaded.state === "ready" && <ScheduleTable schedules={loaded.value} onChanged={reload} />}
    </section>
  );
}

type Timing = "cron" | "every" | "at";

function NewScheduleForm({ projectId, onMade }: { projectId: string; onMade: () => void }) {
  const { hookbus } = useSession();
  const [form, setForm] = useState({
    name: "",
    mdhProject: /^[0-9a-f-]{36}$/i.test(projectId) ? projectId : "",
    participantId: "",
    participantIdentifier: "",
    timing: "cron" as Timing,
    cron: "0 9 * * *",
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    every: "1d",
    at: "",
    catchUp: "last" as CatchUpPolicy,
  });
  const [issues, setIssues] = useState<Record<string, string[]>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const set = (field: keyof typeof form) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [field]: e.currentTarget.value });
  const words = form.timing === "cron" ? cronInWords(form.cron) : undefined;

  const make = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setIssues({});
    setProblem(null);
    const timing =
      form.timing === "cron"
        ? { cron: form.cron, timezone: form.timezone }
        : form.timing === "every"
          ? { every: form.every }
          : { at: form.at && !Number.isNaN(Date.parse(form.at)) ? new Date(form.at).toISOString() : form.at };
    const body = {
      name: form.name,
      projectId,
      data: { projectId: form.mdhProject, participantId: form.participantId, participantIdentifier: form.participantIdentifier },
      catchUp: form.catchUp,
      ...timing,
    } as CreateScheduleBody;
    try {
      await hookbus.schedules.create(body);
      setForm({ ...form, name: "", participantId: "", participantIdentifier: "" });
      onMade();
    } catch (error) {
      if (error instanceof HookbusApiError && error.issues.length) {
        const byField: Record<string, string[]> = {};
        for (const issue of error.issues) (byField[issue.path.map(String).join(".") || "timing"] ??= []).push(issue.message);
        setIssues(byField);
        setProblem("The schedule was not made: see the fields marked below.");
      } else {
        setProblem(describeError(error));
      }
    } finally {
      setSaving(false);
    }
  };

  const input = (id: string, field: keyof typeof form, issueKey: string, label: string, hint?: string) => (
    <Field id={id} label={label} hint={hint} issues={issues[issueKey]}>
      {(describedBy, invalid) => (
        <input
          id={id}
          value={form[field]}
          autoComplete="off"
          onInput={set(field)}
          aria-describedby={describedBy}
          aria-invalid={invalid ? "true" : undefined}
        />
      )}
    </Field>
  );

  return (
    <form class="card form" onSubmit={make} noValidate aria-labelledby="new-schedule-title">
      <h2 id="new-schedule-title" class="form-section">
        Make a schedule
      </h2>
      {problem && <Problem>{problem}</Problem>}
      <div class="grid three">
        {input("schedule-name", "name", "name", "Name", "The events' scheduleName, e.g. Daily check-in.")}
        {input("schedule-participant-id", "participantId", "data.participantId", "Participant id")}
        {input("schedule-participant-identifier", "participantIdentifier", "data.participantIdentifier", "Participant identifier")}
        {input("schedule-mdh-project", "mdhProject", "data.projectId", "MyDataHelps project", "The participant's project GUID.")}
        <Field id="schedule-timing" label="Fires" issues={issues.timing}>
          {(describedBy) => (
            <select id="schedule-timing" value={form.timing} onChange={set("timing")} aria-describedby={describedBy}>
              <option value="cron">By a cron pattern</option>
              <option value="every">Every so often</option>
              <option value="at">Once</option>
            </select>
          )}
        </Field>
        <Field id="schedule-catch-up" label="After an outage">
          {() => (
            <select id="schedule-catch-up" value={form.catchUp} onChange={set("catchUp")}>
              {Object.entries(CATCH_UP_WORDS).map(([value, text]) => (
                <option key={value} value={value}>
                  {text}
                </option>
              ))}
            </select>
          )}
        </Field>
        {form.timing === "cron" && (
          <>
            {input("schedule-cron", "cron", "cron", "Cron pattern", "Five fields: minute hour day-of-month month day-of-week.")}
            {input("schedule-timezone", "timezone", "timezone", "Time zone", "IANA name, e.g. America/New_York.")}
            <p class="cron-words" aria-live="polite">
              {words ? `${words}, ${form.timezone} time` : "Not a cron pattern this page can read."}
            </p>
          </>
        )}
        {form.timing === "every" && input("schedule-every", "every", "every", "Every", 'e.g. "30m", "1d".')}
        {form.timing === "at" && input("schedule-at", "at", "at", "At", "A time, e.g. 2027-01-01T09:00:00Z.")}
      </div>
      <div class="actions">
        <button type="submit" class="button primary" disabled={saving}>
          {saving ? "Making…" : "Make schedule"}
        </button>
      </div>
    </form>
  );
}

function ScheduleTable({ schedules, onChanged }: { schedules: ScheduleView[]; onChanged: () => void }) {
  if (schedules.length === 0) return <p class="card empty">No schedules yet.</p>;
  return (
    <RecordTable
      kind="schedules"
      caption="Schedules of this project"
      columns={["Name", "Participant", "When", "Status", "Next fire", "Last fired", ACTIONS]}
    >
      {schedules.map((schedule) => (
        <ScheduleRow key={schedule.id} schedule={schedule} onChanged={onChanged} />
      ))}
    </RecordTable>
  );
}

function ScheduleRow({ schedule, onChanged }: { schedule: ScheduleView; onChanged: () => void }) {
  const { hookbus } = useSession();
  const { busy, problem, act } = useAction();
  const action = schedule.status === "paused" ? "resume" : "pause";
  const toggle = () =>
    act(async () => {
      await hookbus.schedules[action](schedule.id);
      onChanged();
    });
  return (
    <tr data-schedule-id={schedule.id}>
      <td>
        <a href={href("schedules", schedule.id)}>{schedule.name}</a>
      </td>
      <td>{schedule.data.participantIdentifier}</td>
      <td>{timingInWords(schedule)}</td>
      <td>
        <Badge tone={schedule.status === "active" ? "good" : schedule.status === "paused" ? "warn" : "neutral"}>
          {SCHEDULE_STATUS_WORDS[schedule.status]}
        </Badge>
      </td>
      <td>{schedule.nextFireAt ? <time dateTime={schedule.nextFireAt}>{when(schedule.nextFireAt)}</time> : "none"}</td>
      <td>{schedule.lastFiredAt ? <time dateTime={schedule.lastFiredAt}>{when(schedule.lastFiredAt)}</time> : "never"}</td>
      <td>
        {schedule.status !== "ended" && (
          <button
            type="button"
            class="button quiet"
            disabled={busy}
            onClick={toggle}
            aria-label={`${action === "pause" ? "Pause" : "Resume"} ${schedule.name} for ${schedule.data.participantIdentifier}`}
          >
            {action === "pause" ? "Pause" : "Resume"}
          </button>
        )}
        {problem && <Problem>{problem}</Problem>}
      </td>
    </tr>
  );
}
