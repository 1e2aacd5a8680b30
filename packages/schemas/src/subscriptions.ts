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

const subscriptionFields = {
  url: webhookUrl,
  eventTypes: z.array(eventType).min(1).max(100),
  mode: subscriptionMode,
  environment: subscriptionEnvironment,
  filter: subscriptionFilter,
  auth: basicAuth,
  headers: z
    .record(headerName, headerValue)
    .refine((headers) => Object.keys(headers).length <= MAX_HEADERS, `at most ${MAX_HEADERS} headers`),
  timeoutMs: z.number().int().min(100).max(MAX_TIMEOUT_MS),
  retrySchedule: z.array(retryDelay).max(20),
  format: payloadFormat,
  legacyParameters: z.boolean(),
  description: z.string().max(500),
  enabled: z.boolean(),
  /** Attempts in flight to this endpoint at once; more wait without holding a worker. */
  maxInFlight: z.number().int().min(1).max(1000),
  /** Attempts per second to this endpoint at most, evenly spaced. */
  ratePerSecond,
};

export const createSubscriptionBody = z.strictObject({
  projectId: projectId
    .optional()
    .describe("the project to make it in, named by an operator key (absent: the default project); a project's key makes it in its own"),
  url: subscriptionFields.url,
  eventTypes: subscriptionFields.eventTypes,
  mode: subscriptionFields.mode.optional(),
  environment: subscriptionFields.environment.optional(),
  filter: subscriptionFields.filter.optional(),
  auth: subscriptionFields.auth.optional(),
  headers: subscriptionFields.headers.optional(),
  timeoutMs: subscriptionFields.timeoutMs.optional(),
  retrySchedule: subscriptionFields.retrySchedule.optional(),
  format: subscriptionFields.format.optional(),
  legacyParameters: subscriptionFields.legacyParameters.optional(),
  description: subscriptionFields.description.optional(),
  enabled: subscriptionFields.enabled.optional(),
  maxInFlight: subscriptionFields.maxInFlight.optional(),
  ratePerSecond: subscriptionFields.ratePerSecond.optional(),
});
export type CreateSubscriptionBody = z.infer<typeof createSubscriptionBody>;

/** PATCH: any field of the create body; `null` clears an optional one. */
export const updateSubscriptionBody = z
  .strictObject({
    url: subscriptionFields.url.optional(),
    eventTypes: subscriptionFields.eventTypes.optional(),
    mode: subscriptionFields.mode.optional(),
    environment: subscriptionFields.environment.optional(),
    filter: subscriptionFields.filter.nullable().optional(),
    auth: subscriptionFields.auth.nullable().optional(),
    headers: subscriptionFields.headers.nullable().optional(),
    timeoutMs: subscriptionFields.timeoutMs.nullable().optional(),
    retrySchedule: subscriptionFields.retrySchedule.nullable().optional(),
    format: subscriptionFields.format.optional(),
    legacyParameters: subscriptionFields.legacyParameters.optional(),
    description: subscriptionFields.description.nullable().optional(),
    enabled: subscriptionFields.enabled.optional(),
    maxInFlight: subscriptionFields.maxInFlight.optional(),
    ratePerSecond: subscriptionFields.ratePerSecond.nullable().optional(),
  })
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
  url: z.string(),
  eventTypes: z.array(eventType),
  mode: subscriptionMode,
  environment: subscriptionEnvironment,
  filter: subscriptionFilter.optional(),
  auth: z.object({ type: z.literal("basic"), username: z.string() }).optional(),
  /** Header names, each value shown as "********". */
  headers: z.record(z.string(), z.string()).optional(),
  timeoutMs: z.number().int(),
  /** Delays before each retry, ms; absent: the configured default. */
  retrySchedule: z.array(z.number().int()).optional(),
  format: payloadFormat,
  legacyParameters: z.boolean(),
  description: z.string().optional(),
  enabled: z.boolean(),
  disabledReason: z.enum(disabledReasons).optional(),
  disabledAt: isoTime.optional(),
  maxInFlight: z.number().int(),
  ratePerSecond: z.number().optional(),
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
