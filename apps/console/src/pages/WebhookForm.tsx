import { useMemo, useState } from "preact/hooks";
import type { SubscriptionView } from "@hookbus/schemas";
import { describeError, HookbusApiError } from "../api.js";
import { Field } from "../components/Field.js";
import { showSecretNext } from "../components/SecretNotice.js";
import { LoadingLine, Problem } from "../components/Status.js";
import { EVENT_TYPE_NAMES, EVENT_TYPES } from "../format.js";
import { useProjectId } from "../project.js";
import { href, navigate } from "../router.js";
import { useSession } from "../session.js";
import { useLoad } from "../use-load.js";
import {
  createBody,
  emptyForm,
  fieldOfIssue,
  formOf,
  formSettings,
  updateBody,
  type FormSetting,
  type FormSettingName,
  type WebhookField,
  type WebhookForm,
} from "../webhook-form.js";

/** Add a webhook (no id) or edit one. */
export function WebhookFormPage({ id }: { id?: string }) {
  const { hookbus } = useSession();
  const [loaded] = useLoad(async () => (id ? hookbus.subscriptions.get(id) : null), [id]);
  const title = id ? "Edit webhook" : "Add webhook";
  return (
    <section aria-labelledby="form-title">
      <p class="crumbs">
        <a href={href("webhooks")}>Webhooks</a> /
      </p>
      <h1 id="form-title">{title}</h1>
      {loaded.state === "loading" && <LoadingLine what="the webhook" />}
      {loaded.state === "error" && <Problem>{loaded.message}</Problem>}
      {loaded.state === "ready" && <WebhookEditor existing={loaded.value} />}
    </section>
  );
}

type Issues = Partial<Record<WebhookField, string[]>>;

/** An issue as said beside its field: which item of a list it is about, when it is about one. */
function issueDetail(path: (string | number)[], message: string): string {
  const [first, second] = path;
  const item = first === "filter" ? path[2] : second;
  if (typeof item === "number") return `item ${item + 1}: ${message}`;
  if (first === "headers" && typeof second === "string") return `${second}: ${message}`;
  return message;
}

function WebhookEditor({ existing }: { existing: SubscriptionView | null }) {
  const { hookbus } = useSession();
  const projectId = useProjectId();
  const initial = useMemo(() => (existing ? formOf(existing) : emptyForm), [existing]);
  const [form, setForm] = useState<WebhookForm>(initial);
  const [issues, setIssues] = useState<Issues>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const set = <K extends WebhookField>(field: K, value: WebhookForm[K]) => setForm((f) => ({ ...f, [field]: value }));

  const save = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setIssues({});
    setProblem(null);
    try {
      if (existing) {
        const patch = updateBody(initial, form);
        if (Object.keys(patch).length > 0) await hookbus.subscriptions.update(existing.id, patch);
      } else {
        const created = await hookbus.subscriptions.create({ ...createBody(form), projectId });
        showSecretNext(created.secret, `Webhook to ${created.url} created`);
      }
      navigate(href("webhooks"));
    } catch (error) {
      if (error instanceof HookbusApiError && error.issues.length) {
        const byField: Issues = {};
        const unplaced: string[] = [];
        for (const issue of error.issues) {
          const field = fieldOfIssue(issue.path);
          if (field) (byField[field] ??= []).push(issueDetail(issue.path, issue.message));
          else unplaced.push(issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message);
        }
        setIssues(byField);
        setProblem(`The webhook was not saved: ${unplaced.length ? unplaced.join("; ") : "see the fields marked below."}`);
      } else {
        setProblem(describeError(error));
      }
    } finally {
      setSaving(false);
    }
  };

  const text = (field: WebhookField, label: string, hint?: string, props: Record<string, unknown> = {}) => (
    <Field key={field} id={`field-${field}`} label={label} hint={hint} issues={issues[field]}>
      {(describedBy, invalid) => (
        <input
          id={`field-${field}`}
          value={form[field] as string}
          onInput={(e) => set(field, e.currentTarget.value as never)}
          aria-describedby={describedBy}
          aria-invalid={invalid ? "true" : undefined}
          {...props}
        />
      )}
    </Field>
  );
  const area = (field: WebhookField, label: string, hint: string) => (
    <Field id={`field-${field}`} label={label} hint={hint} issues={issues[field]}>
      {(describedBy, invalid) => (
        <textarea
          id={`field-${field}`}
          rows={3}
          value={form[field] as string}
          onInput={(e) => set(field, e.currentTarget.value as never)}
          aria-describedby={describedBy}
          aria-invalid={invalid ? "true" : undefined}
        />
      )}
    </Field>
  );
  const choice = (field: FormSettingName, legend: string, options: [string, string][]) => (
    <fieldset key={field} class={`field choice ${issues[field] ? "has-issue" : ""}`}>
      <legend>{legend}</legend>
      {options.map(([value, words]) => (
        <label key={value} class="inline">
          <input type="radio" name={field} value={value} checked={form[field] === value} onChange={() => set(field, value as never)} />{" "}
          {words}
        </label>
      ))}
      {issues[field] && <p class="issue">{issues[field]!.join("; ")}</p>}
    </fieldset>
  );
  const check = (field: FormSettingName, label: string) => (
    <label key={field} class="inline check-line">
      <input type="checkbox" checked={form[field] as boolean} onChange={(e) => set(field, e.currentTarget.checked as never)} /> {label}
    </label>
  );
  /** The settings of one section and kind, as the form table lists them. */
  const settings = (section: "what" | "how" | "end", kind: "text" | "choice" | "check") =>
    (Object.entries(formSettings) as [FormSettingName, FormSetting<string | boolean>][])
      .filter(([, setting]) => setting.section === section && setting.kind === kind)
      .map(([field, setting]) => {
        if (setting.kind === "choice") return choice(field, setting.label, setting.options ?? []);
        if (setting.kind === "check") return check(field, setting.label);
        return text(field, setting.label, setting.hint, setting.props);
      });

  return (
    <form class="card form" onSubmit={save} noValidate>
      {problem && <Problem>{problem}</Problem>}
      <h2 class="form-section">Where and what</h2>
      {text("url", "URL", "Where deliveries are POSTed: http or https.", {
        type: "url",
        inputMode: "url",
        autoComplete: "off",
        required: true,
      })}
      {settings("what", "text")}
      <fieldset
        class={`field ${issues.eventTypes ? "has-issue" : ""}`}
        aria-describedby={issues.eventTypes ? "event-types-issue" : undefined}
      >
        <legend>Event types</legend>
        <div class="checks">
          {EVENT_TYPES.map((type) => (
            <label key={type} class="inline">
              <input
                type="checkbox"
                checked={form.eventTypes.includes(type)}
                onChange={(e) =>
                  set("eventTypes", e.currentTarget.checked ? [...form.eventTypes, type] : form.eventTypes.filter((t) => t !== type))
                }
              />{" "}
              {EVENT_TYPE_NAMES[type]} <code>{type}</code>
            </label>
          ))}
        </div>
        {issues.eventTypes && (
          <p id="event-types-issue" class="issue">
            {issues.eventTypes.join("; ")}
          </p>
        )}
      </fieldset>
      <div class="grid three">
        {area("surveyNames", "Survey names", "Only these surveys; one a line. Empty: all.")}
        {area("scheduleNames", "Schedule names", "Only these schedules; one a line.")}
        {area("formIds", "Form ids", "Only these TrialKit forms; one a line.")}
      </div>

      <h2 class="form-section">How</h2>
      <div class="grid three">{settings("how", "choice")}</div>
      {settings("how", "check")}
      <div class="grid three">{settings("how", "text")}</div>

      <h2 class="form-section">Credentials sent to the receiver</h2>
      <div class="grid three">
        {text("authUsername", "Basic auth username", existing?.auth ? "Clear it to stop sending Basic auth." : "Empty: no Basic auth.", {
          autoComplete: "off",
        })}
        {text("authPassword", "Basic auth password", existing?.auth ? "Never shown again; empty keeps the current one." : undefined, {
          type: "password",
          autoComplete: "new-password",
        })}
      </div>
      {area(
        "headers",
        "Custom headers",
        existing?.headers ? "One Name: value a line. Values are hidden: to change any, enter them all again." : "One Name: value a line.",
      )}

      {settings("end", "check")}
      <div class="actions">
        <button type="submit" class="button primary" disabled={saving}>
          {saving ? "Saving…" : existing ? "Save changes" : "Create webhook"}
        </button>
        <a class="button quiet" href={href("webhooks")}>
          Cancel
        </a>
      </div>
    </form>
  );
}
