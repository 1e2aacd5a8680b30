import type { CreateSubscriptionBody, EventType, SubscriptionView, UpdateSubscriptionBody } from "@hookbus/schemas";

/**
 * A setting the form shows as one input and sends as one body field of the same name: a row
 * of this table is all a new such setting needs here (the page draws the rows of "How").
 * - `kind`: text typed (numbers go as numbers, see numberOrText), a choice of `options`, or a checkbox.
 * - `section`: "what" and "end" settings are placed by the page; "how" ones in its "How" part.
 */
export interface FormSetting<V extends string | boolean> {
  kind: "text" | "choice" | "check";
  section: "what" | "how" | "end";
  label: string;
  hint?: string;
  options?: [string, string][];
  props?: Record<string, unknown>;
  empty: V;
  fromView: (view: SubscriptionView) => V;
  toBody: (value: V) => unknown;
}

const choice = <V extends string>(
  label: string,
  empty: V,
  fromView: (view: SubscriptionView) => V,
  options: [V, string][],
): FormSetting<V> => ({ kind: "choice", section: "how", label, options, empty, fromView, toBody: (value) => value });
const check = (
  label: string,
  empty: boolean,
  fromView: (view: SubscriptionView) => boolean,
  section: "how" | "end",
): FormSetting<boolean> => ({
  kind: "check",
  section,
  label,
  empty,
  fromView,
  toBody: (value) => value,
});
const numberField = (
  label: string,
  hint: string,
  fromView: (view: SubscriptionView) => string,
  props: Record<string, unknown>,
): FormSetting<string> => ({
  kind: "text",
  section: "how",
  label,
  hint,
  props,
  empty: "",
  fromView,
  toBody: numberOrText,
});
const optionalNumber = (value: number | undefined) => (value === undefined ? "" : String(value));

export const formSettings = {
  description: {
    kind: "text",
    section: "what",
    label: "Description",
    hint: "For people: what this webhook is for.",
    empty: "",
    fromView: (view) => view.description ?? "",
    toBody: (text) => text.trim() || undefined,
  } satisfies FormSetting<string>,
  mode: choice("Mode", "async", (view) => view.mode, [
    ["async", "Async: retried in the background"],
    ["sync", "Sync: the publisher waits for the answer"],
  ]),
  environment: choice("Environment", "test", (view) => view.environment, [
    ["test", "Test: samples only"],
    ["live", "Live: real events"],
  ]),
  format: choice("Body format", "envelope", (view) => view.format, [
    ["envelope", "Envelope {type, timestamp, data}"],
    ["native", "Native: the platform's own body"],
  ]),
  legacyParameters: check(
    "Legacy parameters (PatientIdentifier and PatientID in native bodies)",
    false,
    (view) => view.legacyParameters,
    "how",
  ),
  timeoutMs: numberField("Timeout (ms)", "100 to 30000. Empty: the default.", (view) => String(view.timeoutMs), { inputMode: "numeric" }),
  retrySchedule: {
    kind: "text",
    section: "how",
    label: "Retry schedule",
    hint: "Delays before each retry, e.g. 5s, 5m, 30m. Empty: the default.",
    empty: "",
    fromView: (view) => (view.retrySchedule ?? []).map(shortDuration).join(", "),
    toBody: schedule,
  } satisfies FormSetting<string>,
  maxInFlight: numberField("Attempts in flight at most", "Per endpoint. Empty: 10.", (view) => String(view.maxInFlight), {
    inputMode: "numeric",
  }),
  ratePerSecond: numberField("Attempts per second at most", "Empty: no limit.", (view) => optionalNumber(view.ratePerSecond), {
    inputMode: "decimal",
  }),
  ordering: choice("Order", "none", (view) => view.ordering, [
    ["none", "None: deliveries go as they can"],
    ["key", "Per ordering key: one at a time, in publish order"],
  ]),
  enabled: check("Enabled", true, (view) => view.enabled, "end"),
};

type FormSettings = typeof formSettings;
export type FormSettingName = keyof FormSettings;
const settingNames = Object.keys(formSettings) as FormSettingName[];
const settingOf = (name: FormSettingName) => formSettings[name] as FormSetting<string | boolean>;

/** The webhook form as typed: text where people type, converted to the API's body on submit. */
export type WebhookForm = {
  url: string;
  eventTypes: EventType[];
  surveyNames: string;
  scheduleNames: string;
  formIds: string;
  authUsername: string;
  authPassword: string;
  /** One `Name: value` a line. */
  headers: string;
} & { [K in FormSettingName]: FormSettings[K]["empty"] };

export type WebhookField = keyof WebhookForm;

const settingsFrom = (value: (name: FormSettingName) => string | boolean) =>
  Object.fromEntries(settingNames.map((name) => [name, value(name)])) as { [K in FormSettingName]: FormSettings[K]["empty"] };

export const emptyForm: WebhookForm = {
  url: "",
  eventTypes: ["survey.submitted"],
  surveyNames: "",
  scheduleNames: "",
  formIds: "",
  authUsername: "",
  authPassword: "",
  headers: "",
  ...settingsFrom((name) => settingOf(name).empty),
};

/** A webhook as the form shows it; secrets are never returned, so the password starts empty. */
export function formOf(view: SubscriptionView): WebhookForm {
  return {
    url: view.url,
    eventTypes: view.eventTypes,
    surveyNames: (view.filter?.surveyNames ?? []).join("\n"),
    scheduleNames: (view.filter?.scheduleNames ?? []).join("\n"),
    formIds: (view.filter?.formIds ?? []).join("\n"),
    authUsername: view.auth?.username ?? "",
    authPassword: "",
    headers: Object.entries(view.headers ?? {})
      .map(([name, value]) => `${name}: ${value}`)
      .join("\n"),
    ...settingsFrom((name) => settingOf(name).fromView(view)),
  };
}

const lines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * A number typed into a field, or the text itself when it is not one: the API then says what
 * it expected, beside the field, rather than the page guessing its rules.
 */
function numberOrText(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

/** `5s, 5m 30m` -> ["5s", "5m", "30m"]; bare digits are milliseconds. */
function schedule(text: string): (string | number)[] | undefined {
  const items = text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((item) => (/^\d+$/.test(item) ? Number(item) : item));
  return items.length ? items : undefined;
}

function headers(text: string): Record<string, string> | undefined {
  const entries = text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => {
      const colon = line.indexOf(":");
      return colon < 0 ? [line.trim(), ""] : [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
    });
  return entries.length ? Object.fromEntries(entries) : undefined;
}

function filterOf(form: WebhookForm): CreateSubscriptionBody["filter"] {
  const filter = { surveyNames: lines(form.surveyNames), scheduleNames: lines(form.scheduleNames), formIds: lines(form.formIds) };
  const named = Object.entries(filter).filter(([, names]) => names.length > 0);
  return named.length ? Object.fromEntries(named) : undefined;
}

/** The create body. Fields left empty are left out, so the API's defaults apply. */
export function createBody(form: WebhookForm): CreateSubscriptionBody {
  const body = {
    url: form.url.trim(),
    eventTypes: form.eventTypes,
    filter: filterOf(form),
    auth: form.authUsername.trim() ? { type: "basic", username: form.authUsername.trim(), password: form.authPassword } : undefined,
    headers: headers(form.headers),
    ...Object.fromEntries(settingNames.map((name) => [name, settingOf(name).toBody(form[name])])),
  };
  // Mistyped numbers go as typed, for the API's own message (see numberOrText).
  return body as CreateSubscriptionBody;
}

/** The PATCH for an edit: only what changed; an optional field emptied becomes null, which clears it. */
export function updateBody(before: WebhookForm, after: WebhookForm): UpdateSubscriptionBody {
  const was = createBody(before) as Record<string, unknown>;
  const now = createBody(after) as Record<string, unknown>;
  // Header values come back masked and the password not at all: unchanged text means unchanged.
  if (after.authUsername === before.authUsername && after.authPassword === "") delete now.auth;
  const patch: Record<string, unknown> = {};
  for (const field of new Set([...Object.keys(was), ...Object.keys(now)])) {
    if (field === "auth" && !("auth" in now)) continue;
    if (JSON.stringify(was[field]) !== JSON.stringify(now[field])) patch[field] = now[field] ?? null;
  }
  return patch as UpdateSubscriptionBody;
}

/** The form field an API issue is about, from its path (`["filter", "surveyNames", 0]` -> surveyNames). */
export function fieldOfIssue(path: (string | number)[]): WebhookField | undefined {
  const [first, second] = path;
  if (first === "filter" && typeof second === "string" && ["surveyNames", "scheduleNames", "formIds"].includes(second))
    return second as WebhookField;
  if (first === "filter") return "surveyNames";
  if (first === "auth") return second === "password" ? "authPassword" : "authUsername";
  if (typeof first === "string" && first in emptyForm) return first as WebhookField;
  return undefined;
}

/** Milliseconds in the largest unit they divide into: 300000 -> "5m". */
export function shortDuration(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
