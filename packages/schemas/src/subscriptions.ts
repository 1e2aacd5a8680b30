import { z } from "zod";
import { disabledReasons, eventType, syncResult } from "./events.js";
import { idOf, isoTime, pageOf, ratePerSecond, retryDelay } from "./primitives.js";
import { projectId, projectListingQuery } from "./projects.js";

/** Headers Hookbus sets itself; a subscription may not override them. */
export const reservedHeaders = [
  "authorization",
  "content-length",
  "content-type",
  "host",
  "webhook-id",
  "webhook-signature",
  "webhook-timestamp",
  "user-agent",
];

/**
 * Headers about the connection rather than the request (hop-by-hop, RFC 9110 section 7.6.1,
 * and the ones that change how a request is framed): the HTTP client refuses to send them,
 * so a subscription naming one could never be delivered.
 */
export const connectionHeaders = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect", "http2-settings"];
const isConnectionHeader = (name: string) => connectionHeaders.includes(name) || name.startsWith("proxy-");

/** Custom headers a subscription may have, and the longest name. */
export const MAX_HEADERS = 50;

const headerName = z
  .string()
  .max(256)
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "an HTTP header name")
  .refine((name) => !reservedHeaders.includes(name.toLowerCase()), "set by Hookbus itself")
  .refine((name) => !isConnectionHeader(name.toLowerCase()), "a connection-level header, which no receiver can be sent");
const headerValue = z
  .string()
  .max(4096)
  .regex(/^[\t\x20-\x7e]*$/, "printable ASCII");

/** A host name, or an IPv6 literal in brackets ("[2001:db8::1]"), as URL.hostname gives them. */
const webhookHost = new RegExp(`${z.regexes.hostname.source}|^\\[[0-9a-fA-F:.]+\\]$`);

const webhookUrl = z
  .url({ protocol: /^https?$/, hostname: webhookHost })
  .max(2048)
  // A user name or password in the URL would be shown and logged with it, and never reach the receiver.
  .refine(withoutCredentials, 'may not hold a user name or password: use auth {type: "basic", username, password}');

function withoutCredentials(url: string): boolean {
  try {
    const { username, password } = new URL(url);
    return !username && !password;
  } catch {
    return true; // z.url has said what is wrong with it
  }
}

export const subscriptionMode = z.enum(["async", "sync"]);
export const subscriptionEnvironment = z.enum(["live", "test"]);
export const payloadFormat = z.enum(["envelope", "native"]);

/** Entries in one filter list, and the longest entry. */
export const MAX_FILTER_ENTRIES = 1000;
export const MAX_FILTER_ENTRY_LENGTH = 1000;
const filterList = z.array(z.string().min(1).max(MAX_FILTER_ENTRY_LENGTH)).min(1).max(MAX_FILTER_ENTRIES);

export const subscriptionFilter = z.strictObject({
  surveyNames: filterList.optional(),
  scheduleNames: filterList.optional(),
  formIds: filterList.optional(),
});
export type SubscriptionFilter = z.infer<typeof subscriptionFilter>;

export const basicAuth = z.strictObject({
  type: z.literal("basic"),
  // TrialKit builds its hook credentials from an email and a password; any username works.
  username: z
    .string()
    .min(1)
    .max(256)
    .refine((u) => !u.includes(":"), "may not contain ':'"),
  password: z.string().max(256),
});

export const MAX_TIMEOUT_MS = 30_000;

/** Attempts in flight to one endpoint unless its subscription says otherwise. */
export const DEFAULT_MAX_IN_FLIGHT = 10;

/** How an ordered subscription gets its deliveries: "key" sends those of one orderingKey one at a time, in publish order. */
export const subscriptionOrdering = z.enum(["none", "key"]);
export type SubscriptionOrdering = z.infer<typeof subscriptionOrdering>;

/** What the API shows in place of a custom header's value: tokens often travel there. */
export const MASKED_HEADER_VALUE = "********";

const isoOf = (ms: number) => new Date(ms).toISOString();

/**
 * One setting of a subscription: a row of the field table below.
 * - `input`: what a create or a PATCH may send; absent for a setting that is only shown.
 * - `create`: "required", or "optional" (then `default`, when set, is stored on create and
 *   shown for a record written before the setting existed).
 * - `storedAlways`: every record has it, although it has no fixed default (the store sets one).
 * - `clearable`: a PATCH may send null, which clears it (back to its default or unset).
 * - `stored`: the form it is kept in, when it is not the input's (a parsed schedule, a time in ms).
 * - `view`: how the API shows it; `show` turns the stored value into that, when they differ.
 */
interface SettingRow {
  input?: z.ZodType;
  create: "required" | "optional";
  default?: unknown;
  storedAlways?: true;
  clearable?: boolean;
  stored?: z.ZodType;
  view: z.ZodType;
  show?: (stored: never) => unknown;
}
const row = <R extends SettingRow>(r: R) => r;

/**
 * A subscription's settings, one row each, in the order the API shows them. The create and
 * update bodies, the API's view and the stored record's type are all made from this table,
 * so a new setting is a row here, a row of the console's form table, a CLI flag and its use.
 */
export const subscriptionSettings = {
  url: row({ input: webhookUrl, create: "required", view: z.string() }),
  eventTypes: row({ input: z.array(eventType).min(1).max(100), create: "required", view: z.array(eventType) }),
  mode: row({ input: subscriptionMode, create: "optional", default: "async" as const, view: subscriptionMode }),
  environment: row({ input: subscriptionEnvironment, create: "optional", default: "live" as const, view: subscriptionEnvironment }),
  filter: row({ input: subscriptionFilter, create: "optional", clearable: true, view: subscriptionFilter.optional() }),
  auth: row({
    input: basicAuth,
    create: "optional",
    clearable: true,
    view: z.object({ type: z.literal("basic"), username: z.string() }).optional(),
    show: (auth: z.infer<typeof basicAuth>) => ({ type: auth.type, username: auth.username }),
  }),
  headers: row({
    input: z
      .record(headerName, headerValue)
      .refine((headers) => Object.keys(headers).length <= MAX_HEADERS, `at most ${MAX_HEADERS} headers`),
    create: "optional",
    clearable: true,
    /** Header names, each value shown as "********". */
    view: z.record(z.string(), z.string()).optional(),
    show: (headers: Record<string, string>) => Object.fromEntries(Object.keys(headers).map((name) => [name, MASKED_HEADER_VALUE])),
  }),
  // Its default depends on the mode: the store sets it.
  timeoutMs: row({
    input: z.number().int().min(100).max(MAX_TIMEOUT_MS),
    create: "optional",
    storedAlways: true,
    clearable: true,
    view: z.number().int(),
  }),
  retrySchedule: row({
    input: z.array(retryDelay).max(20),
    create: "optional",
    clearable: true,
    stored: z.array(z.number()),
    /** Delays before each retry, ms; absent: the configured default. */
    view: z.array(z.number().int()).optional(),
  }),
  format: row({ input: payloadFormat, create: "optional", default: "envelope" as const, view: payloadFormat }),
  legacyParameters: row({ input: z.boolean(), create: "optional", default: false, view: z.boolean() }),
  description: row({ input: z.string().max(500), create: "optional", clearable: true, view: z.string().optional() }),
  enabled: row({ input: z.boolean(), create: "optional", default: true, view: z.boolean() }),
  disabledReason: row({ create: "optional", stored: z.enum(disabledReasons), view: z.enum(disabledReasons).optional() }),
  disabledAt: row({ create: "optional", stored: z.number(), view: isoTime.optional(), show: isoOf }),
  /** Attempts in flight to this endpoint at once; more wait without holding a worker. */
  maxInFlight: row({
    input: z.number().int().min(1).max(1000),
    create: "optional",
    default: DEFAULT_MAX_IN_FLIGHT,
    view: z.number().int(),
  }),
  /** Attempts per second to this endpoint at most, evenly spaced. */
  ratePerSecond: row({ input: ratePerSecond, create: "optional", clearable: true, view: z.number().optional() }),
  /** "key": the deliveries of one orderingKey are attempted one at a time, in publish order. */
  ordering: row({ input: subscriptionOrdering, create: "optional", default: "none" as const, view: subscriptionOrdering }),
} satisfies Record<string, SettingRow>;

type Settings = typeof subscriptionSettings;
type Input<R> = R extends { input: infer I extends z.ZodType } ? I : never;
type Writable = { [K in keyof Settings]: Settings[K] extends { input: z.ZodType } ? K : never }[keyof Settings];
type CreateShape = {
  [K in Writable]: Settings[K] extends { create: "required" } ? Input<Settings[K]> : z.ZodOptional<Input<Settings[K]>>;
};
type UpdateShape = {
  [K in Writable]: Settings[K] extends { clearable: true }
    ? z.ZodOptional<z.ZodNullable<Input<Settings[K]>>>
    : z.ZodOptional<Input<Settings[K]>>;
};
type ViewShape = { [K in keyof Settings]: Settings[K]["view"] };
type StoredOf<R> = R extends { stored: infer S extends z.ZodType } ? z.output<S> : z.output<Input<R>>;
type AlwaysStored = {
  [K in keyof Settings]: Settings[K] extends { create: "required" } | { default: unknown } | { storedAlways: true } ? K : never;
}[keyof Settings];

/**
 * The settings as a record keeps them. One with a default is always there, except in a record
 * written before the setting existed: read those through `settingOf`.
 */
export type SubscriptionSettings = { [K in Exclude<AlwaysStored, LaterSettings>]: StoredOf<Settings[K]> } & {
  [K in Exclude<keyof Settings, AlwaysStored> | LaterSettings]?: StoredOf<Settings[K]>;
};
/** Settings with a default that records made before them lack. */
type LaterSettings = "maxInFlight" | "ordering";

const rows = Object.entries(subscriptionSettings) as [keyof Settings, SettingRow][];
const writableRows = rows.filter(([, r]) => r.input) as [Writable, SettingRow & { input: z.ZodType }][];

/** A setting of a stored subscription, or its default when the record predates it. */
export function settingOf<K extends keyof Settings>(settings: Partial<SubscriptionSettings>, name: K): StoredOf<Settings[K]> {
  return (settings[name] ?? (subscriptionSettings[name] as SettingRow).default) as StoredOf<Settings[K]>;
}

/** The settings a create stores from its body: what it names, else each setting's default. */
export function settingsOnCreate(body: Partial<Record<Writable, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    writableRows.flatMap(([name, r]) => {
      const value = body[name] ?? r.default;
      return value === undefined ? [] : [[name, value]];
    }),
  );
}

/** The settings as the API shows them. */
export function settingsView(settings: Partial<SubscriptionSettings>): z.infer<z.ZodObject<ViewShape>> {
  return Object.fromEntries(
    rows.map(([name, r]) => {
      const value = settingOf(settings, name);
      return [name, value === undefined || !r.show ? value : (r.show as (stored: unknown) => unknown)(value)];
    }),
  ) as z.infer<z.ZodObject<ViewShape>>;
}

const shapeOf = <T>(pick: (r: SettingRow & { input: z.ZodType }) => z.ZodType) =>
  Object.fromEntries(writableRows.map(([name, r]) => [name, pick(r)])) as T;

export const createSubscriptionBody = z.strictObject({
  projectId: projectId
    .optional()
    .describe("the project to make it in, named by an operator key (absent: the default project); a project's key makes it in its own"),
  ...shapeOf<CreateShape>((r) => (r.create === "required" ? r.input : r.input.optional())),
});
export type CreateSubscriptionBody = z.infer<typeof createSubscriptionBody>;

/** PATCH: any field of the create body; `null` clears an optional one. */
export const updateSubscriptionBody = z
  .strictObject(shapeOf<UpdateShape>((r) => (r.clearable ? r.input.nullable().optional() : r.input.optional())))
  .refine((body) => Object.keys(body).length > 0, "name at least one field to change");
export type UpdateSubscriptionBody = z.infer<typeof updateSubscriptionBody>;

export type SubscriptionMode = z.infer<typeof subscriptionMode>;
export type SubscriptionEnvironment = z.infer<typeof subscriptionEnvironment>;
export type PayloadFormat = z.infer<typeof payloadFormat>;
export type BasicAuth = z.infer<typeof basicAuth>;

export const circuitStates = ["closed", "open", "half-open"] as const;

/** The endpoint's health as the gate sees it. */
export const endpointHealthView = z.object({
  circuit: z.enum(circuitStates),
  consecutiveFailures: z.number().int(),
  openUntil: isoTime.optional(),
  /**
   * Set when the subscription's secrets cannot be opened with the keys the ingest holds:
   * why. Nothing is attempted; its deliveries wait until the key is given back. It can be
   * deleted, not changed.
   */
  unreadable: z.string().optional(),
});
export type EndpointHealthView = z.infer<typeof endpointHealthView>;

/** A subscription as the API shows it: never its secrets, its Basic auth password, nor its header values. */
export const subscriptionView = z.object({
  id: idOf("sub"),
  /** The project it belongs to: only that project's events reach it. */
  projectId,
  ...(Object.fromEntries(rows.map(([name, r]) => [name, r.view])) as ViewShape),
  health: endpointHealthView,
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type SubscriptionView = z.infer<typeof subscriptionView>;

/** Answered to a create and a rotation only: the signing secret, shown this once. */
export const subscriptionWithSecret = subscriptionView.extend({ secret: z.string() });
export type SubscriptionWithSecret = z.infer<typeof subscriptionWithSecret>;

export const subscriptionListQuery = projectListingQuery;
export type SubscriptionListQuery = z.input<typeof subscriptionListQuery>;
export const subscriptionPage = pageOf(subscriptionView);
export type SubscriptionPage = z.infer<typeof subscriptionPage>;

export const subscriptionStatsView = z.object({
  subscriptionId: idOf("sub"),
  pending: z.number().int(),
  retrying: z.number().int(),
  delivered: z.number().int(),
  failed: z.number().int(),
  lastSuccessAt: isoTime.optional(),
  lastFailureAt: isoTime.optional(),
});
export type SubscriptionStatsView = z.infer<typeof subscriptionStatsView>;

/** Send a sample: of the subscription's first event type unless one is named. */
export const sendSampleBody = z.strictObject({ type: eventType.optional() });
export type SendSampleBody = z.infer<typeof sendSampleBody>;

export const sendSampleResult = syncResult.extend({ eventId: idOf("evt"), type: eventType });
export type SendSampleResult = z.infer<typeof sendSampleResult>;
