import type { CreateSubscriptionBody, EventType, SubscriptionView, UpdateSubscriptionBody } from "@hookbus/schemas";

/** The webhook form as typed: text where people type, converted to the API's body on submit. */
export interface WebhookForm {
  url: string;
  description: string;
  eventTypes: EventType[];
  surveyNames: string;
  scheduleNames: string;
  formIds: string;
  mode: "async" | "sync";
  environment: "live" | "test";
  timeoutMs: string;
  retrySchedule: string;
  authUsername: string;
  authPassword: string;
  /** One `Name: value` a line. */
  headers: string;
  format: "envelope" | "native";
  legacyParameters: boolean;
  maxInFlight: string;
  ratePerSecond: string;
  enabled: boolean;
}

export type WebhookField = keyof WebhookForm;

export const emptyForm: WebhookForm = {
  url: "",
  description: "",
  eventTypes: ["survey.submitted"],
  surveyNames: "",
  scheduleNames: "",
  formIds: "",
  mode: "async",
  environment: "test",
  timeoutMs: "",
  retrySchedule: "",
  authUsername: "",
  authPassword: "",
  headers: "",
  format: "envelope",
  legacyParameters: false,
  maxInFlight: "",
  ratePerSecond: "",
  enabled: true,
};

/** A webhook as the form shows it; secrets are never returned, so the password starts empty. */
export function formOf(view: SubscriptionView): WebhookForm {
  return {
    url: view.url,
    description: view.description ?? "",
    eventTypes: view.eventTypes,
    surveyNames: (view.filter?.surveyNames ?? []).join("\n"),
    scheduleNames: (view.filter?.scheduleNames ?? []).join("\n"),
    formIds: (view.filter?.formIds ?? []).join("\n"),
    mode: view.mode,
    environment: view.environment,
    timeoutMs: String(view.timeoutMs),
    retrySchedule: (view.retrySchedule ?? []).map(shortDuration).join(", "),
    authUsername: view.auth?.username ?? "",
    authPassword: "",
    headers: Object.entries(view.headers ?? {})
      .map(([name, value]) => `${name}: ${value}`)
      .join("\n"),
    format: view.format,
    legacyParameters: view.legacyParameters,
    maxInFlight: String(view.maxInFlight),
    ratePerSecond: view.ratePerSecond === undefined ? "" : String(view.ratePerSecond),
    enabled: view.enabled,
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
    description: form.description.trim() || undefined,
    eventTypes: form.eventTypes,
    filter: filterOf(form),
    mode: form.mode,
    environment: form.environment,
    timeoutMs: numberOrText(form.timeoutMs),
    retrySchedule: schedule(form.retrySchedule),
    auth: form.authUsername.trim() ? { type: "basic", username: form.authUsername.trim(), password: form.authPassword } : undefined,
    headers: headers(form.headers),
    format: form.format,
    legacyParameters: form.legacyParameters,
    maxInFlight: numberOrText(form.maxInFlight),
    ratePerSecond: numberOrText(form.ratePerSecond),
    enabled: form.enabled,
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
