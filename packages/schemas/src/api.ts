import { z } from "zod";
import { auditEntry, auditFilter, auditListQuery, auditPage, auditVerifyResult } from "./audit.js";
import { deliveryListQuery, deliveryPage, deliveryView, deliveryWithAttempts, eventView } from "./deliveries.js";
import { createErasureBody, erasureView } from "./erasures.js";
import { errorBody } from "./errors.js";
import { batchPublishResult, publishBatchBody, publishBody, publishResult, syncPublishResult } from "./events.js";
import { overviewQuery, overviewView } from "./overview.js";
import { idOf } from "./primitives.js";
import {
  createProjectBody,
  createProjectKeyBody,
  deleteProjectQuery,
  projectId,
  projectKeyList,
  projectKeyView,
  projectKeyWithSecret,
  projectList,
  projectView,
  updateProjectBody,
} from "./projects.js";
import { bulkReplayBody, replayDryRun, replayStarted, replayView } from "./replays.js";
import {
  createScheduleBatchBody,
  createScheduleBody,
  scheduleBatchResult,
  scheduleListQuery,
  schedulePage,
  scheduleView,
  scheduleWithFires,
  updateScheduleBody,
} from "./schedules.js";
import { keyUsageView, resealBody, resealResult } from "./secrets.js";
import {
  createSubscriptionBody,
  sendSampleBody,
  sendSampleResult,
  subscriptionListQuery,
  subscriptionPage,
  subscriptionStatsView,
  subscriptionView,
  subscriptionWithSecret,
  updateSubscriptionBody,
} from "./subscriptions.js";

/**
 * The bodies the document names in its components, so readers and generated clients see one
 * `Subscription` rather than the same object spelt out on every route. Requests are described
 * as they may be sent (defaults optional), answers as they come back.
 */
export const NAMED_REQUESTS = {
  PublishEvent: publishBody,
  BatchPublish: publishBatchBody,
  SubscriptionCreate: createSubscriptionBody,
  SubscriptionPatch: updateSubscriptionBody,
  SendSample: sendSampleBody,
  ReplayRequest: bulkReplayBody,
  ResealRequest: resealBody,
  ProjectCreate: createProjectBody,
  ProjectPatch: updateProjectBody,
  ProjectKeyCreate: createProjectKeyBody,
  ErasureCreate: createErasureBody,
  ScheduleCreate: createScheduleBody,
  ScheduleBatchCreate: createScheduleBatchBody,
  SchedulePatch: updateScheduleBody,
};
export const NAMED_RESPONSES = {
  PublishResult: publishResult,
  SyncPublishResult: syncPublishResult,
  BatchResult: batchPublishResult,
  Event: eventView,
  Subscription: subscriptionView,
  SubscriptionWithSecret: subscriptionWithSecret,
  SubscriptionPage: subscriptionPage,
  SubscriptionStats: subscriptionStatsView,
  SendSampleResult: sendSampleResult,
  Delivery: deliveryView,
  DeliveryWithAttempts: deliveryWithAttempts,
  DeliveryPage: deliveryPage,
  ReplayDryRun: replayDryRun,
  ReplayStarted: replayStarted,
  Replay: replayView,
  KeyUsage: keyUsageView,
  ResealResult: resealResult,
  Project: projectView,
  ProjectList: projectList,
  ProjectKey: projectKeyView,
  ProjectKeyWithSecret: projectKeyWithSecret,
  ProjectKeyList: projectKeyList,
  AuditEntry: auditEntry,
  AuditPage: auditPage,
  AuditVerifyResult: auditVerifyResult,
  Erasure: erasureView,
  Schedule: scheduleView,
  ScheduleWithFires: scheduleWithFires,
  SchedulePage: schedulePage,
  ScheduleBatchResult: scheduleBatchResult,
  ErrorBody: errorBody,
};

/**
 * Who may call a route: an operator key (an admin key of HOOKBUS_API_KEYS) alone; an admin key
 * (an operator's, or a project's within its project); a publisher key (admin keys too); the
 * metrics token if one is set; or anyone.
 */
export type ApiAuth = "operator" | "admin" | "publisher" | "metrics" | "none";

export interface ApiResponse {
  description: string;
  /** The JSON body; absent for an empty answer or one that is not JSON. */
  schema?: z.ZodType;
  /** Set for an answer that is not JSON. */
  contentType?: string;
}

/** The groups routes are listed under, in the OpenAPI document's order. */
export const API_TAGS = [
  "Events",
  "Subscriptions",
  "Deliveries",
  "Replays",
  "Erasures",
  "Projects",
  "Schedules",
  "Audit",
  "Operations",
] as const;

/** One route of the HTTP API: what the ingest serves and the OpenAPI document describes. */
export interface ApiRoute {
  method: "get" | "post" | "patch" | "delete";
  /** Express-style: `/v1/subscriptions/:id`. */
  path: string;
  summary: string;
  tag: (typeof API_TAGS)[number];
  auth: ApiAuth;
  /** One schema per `:name` in the path. */
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, ApiResponse>;
}

/** Error answers a route may give, beyond those every authenticated route may (401, 429, 503). */
const errors = (...statuses: number[]): Record<number, ApiResponse> =>
  Object.fromEntries(statuses.map((status) => [status, { description: ERROR_MEANINGS[status]!, schema: errorBody }]));

const ERROR_MEANINGS: Record<number, string> = {
  400: "malformed JSON",
  401: "missing or unknown key",
  403: "the key may not do this: a publisher key on an admin route, a project's key on an operator route or publishing another project's event",
  404: "no such id",
  409: "the idempotency key was used for another request",
  413: "body over 1 MiB",
  415: "a body that is not application/json",
  422: "invalid request: the issues say what and where",
  429: "over the per-key rate limit",
  503: "Redis did not answer in time",
};

const authenticated = errors(401, 429, 503);
const withBody = { ...authenticated, ...errors(400, 413, 415, 422) };
const byId = { ...authenticated, ...errors(404) };

const idParam = {
  subscription: idOf("sub"),
  delivery: idOf("dlv"),
  event: idOf("evt"),
  replay: idOf("rpl"),
  project: projectId,
  key: idOf("key"),
  erasure: idOf("era"),
  schedule: idOf("sch"),
};

export const apiRoutes: ApiRoute[] = [
  {
    method: "post",
    path: "/v1/events",
    tag: "Events",
    summary: "Publish an event. Answers 202 at once, or 200 with each sync subscription's first attempt when any matched.",
    auth: "publisher",
    body: publishBody,
    responses: {
      200: { description: "sync subscriptions matched: their first attempts' outcomes", schema: syncPublishResult },
      202: { description: "stored and queued", schema: publishResult },
      ...withBody,
      ...errors(403, 409),
    },
  },
  {
    method: "post",
    path: "/v1/events/batch",
    tag: "Events",
    summary: "Publish up to 1,000 events in one request; each item is accepted or refused on its own.",
    auth: "publisher",
    body: publishBatchBody,
    responses: {
      202: {
        description: "one item per event, in order (an item another project's key may not publish answers its 403 error)",
        schema: batchPublishResult,
      },
      ...withBody,
    },
  },
  {
    method: "get",
    path: "/v1/events/:id",
    params: { id: idParam.event },
    tag: "Events",
    summary: "An event with its deliveries.",
    auth: "admin",
    responses: { 200: { description: "the event", schema: eventView }, ...byId, ...errors(403) },
  },
  {
    method: "post",
    path: "/v1/subscriptions",
    tag: "Subscriptions",
    summary: "Create a webhook subscription. Its signing secret is shown in this answer only.",
    auth: "admin",
    body: createSubscriptionBody,
    responses: { 201: { description: "created", schema: subscriptionWithSecret }, ...withBody, ...errors(403) },
  },
  {
    method: "get",
    path: "/v1/subscriptions",
    tag: "Subscriptions",
    summary: "List subscriptions in creation order, a page at a time.",
    auth: "admin",
    query: subscriptionListQuery,
    responses: { 200: { description: "a page", schema: subscriptionPage }, ...authenticated, ...errors(403, 422) },
  },
  {
    method: "get",
    path: "/v1/subscriptions/:id",
    params: { id: idParam.subscription },
    tag: "Subscriptions",
    summary: "One subscription, with its endpoint's health.",
    auth: "admin",
    responses: { 200: { description: "the subscription", schema: subscriptionView }, ...byId, ...errors(403) },
  },
  {
    method: "patch",
    path: "/v1/subscriptions/:id",
    params: { id: idParam.subscription },
    tag: "Subscriptions",
    summary: "Change any field; null clears an optional one. Disabling announces subscription.disabled; enabling resumes kept deliveries.",
    auth: "admin",
    body: updateSubscriptionBody,
    responses: { 200: { description: "the subscription as changed", schema: subscriptionView }, ...withBody, ...byId, ...errors(403) },
  },
  {
    method: "delete",
    path: "/v1/subscriptions/:id",
    params: { id: idParam.subscription },
    tag: "Subscriptions",
    summary: "Delete a subscription.",
    auth: "admin",
    responses: { 204: { description: "deleted" }, ...byId, ...errors(403) },
  },
  {
    method: "post",
    path: "/v1/subscriptions/:id/rotate-secret",
    params: { id: idParam.subscription },
    tag: "Subscriptions",
    summary: "A new signing secret; the old one keeps signing beside it for the configured overlap.",
    auth: "admin",
    responses: { 200: { description: "the subscription and its new secret", schema: subscriptionWithSecret }, ...byId, ...errors(403) },
  },
  {
    method: "get",
    path: "/v1/subscriptions/:id/stats",
    params: { id: idParam.subscription },
    tag: "Subscriptions",
    summary: "Deliveries by status, and the last success and failure.",
    auth: "admin",
    responses: { 200: { description: "the counts", schema: subscriptionStatsView }, ...byId, ...errors(403) },
  },
  {
    method: "post",
    path: "/v1/subscriptions/:id/test",
    params: { id: idParam.subscription },
    tag: "Subscriptions",
    summary: "Send a sample event with made-up, schema-valid data, and wait for the first attempt.",
    auth: "admin",
    body: sendSampleBody,
    responses: { 200: { description: "the attempt's outcome", schema: sendSampleResult }, ...withBody, ...byId, ...errors(403) },
  },
  {
    method: "get",
    path: "/v1/secrets/keys",
    tag: "Subscriptions",
    summary: "The encryption keys subscriptions' secrets are sealed with, each with how many it seals.",
    auth: "operator",
    responses: { 200: { description: "the keys in use", schema: keyUsageView }, ...authenticated, ...errors(403) },
  },
  {
    method: "post",
    path: "/v1/secrets/reseal",
    tag: "Subscriptions",
    summary: "Seal a page of subscriptions' secrets again under the sealing key, so that older keys can be dropped.",
    auth: "operator",
    body: resealBody,
    responses: { 200: { description: "what the page did, and the keys still in use", schema: resealResult }, ...withBody, ...errors(403) },
  },
  {
    method: "get",
    path: "/v1/deliveries",
    tag: "Deliveries",
    summary: "Deliveries, newest first, filtered, a page at a time.",
    auth: "admin",
    query: deliveryListQuery,
    responses: { 200: { description: "a page", schema: deliveryPage }, ...authenticated, ...errors(403, 422) },
  },
  {
    method: "get",
    path: "/v1/deliveries/:id",
    params: { id: idParam.delivery },
    tag: "Deliveries",
    summary: "A delivery with every attempt.",
    auth: "admin",
    responses: { 200: { description: "the delivery", schema: deliveryWithAttempts }, ...byId, ...errors(403) },
  },
  {
    method: "post",
    path: "/v1/deliveries/:id/replay",
    params: { id: idParam.delivery },
    tag: "Replays",
    summary: "Send one delivery again, under the same webhook-id.",
    auth: "admin",
    responses: { 202: { description: "queued", schema: deliveryView }, ...byId, ...errors(403, 422) },
  },
  {
    method: "post",
    path: "/v1/deliveries/replay",
    tag: "Replays",
    summary: "Replay every delivery the filter names (dead letters by default), or count them with dryRun.",
    auth: "admin",
    body: bulkReplayBody,
    responses: {
      200: { description: "dry run: how many would be replayed", schema: replayDryRun },
      202: { description: "started", schema: replayStarted },
      ...withBody,
      ...errors(403),
    },
  },
  {
    method: "get",
    path: "/v1/replays/:id",
    params: { id: idParam.replay },
    tag: "Replays",
    summary: "A bulk replay's progress.",
    auth: "admin",
    responses: { 200: { description: "its progress", schema: replayView }, ...byId, ...errors(403) },
  },
  {
    method: "post",
    path: "/v1/erasures",
    tag: "Erasures",
    summary:
      "Erase one participant's data: every event carrying the value, its deliveries' payloads and attempts, its idempotency record; then Redis's append-only file is rewritten.",
    auth: "admin",
    body: createErasureBody,
    responses: {
      201: { description: "erased: the receipt", schema: erasureView },
      202: { description: "a large erasure, started: its receipt as it runs", schema: erasureView },
      ...withBody,
      ...errors(403, 404),
    },
  },
  {
    method: "get",
    path: "/v1/erasures/:id",
    params: { id: idParam.erasure },
    tag: "Erasures",
    summary: "An erasure's receipt: what it erased (never the value) and when Redis's files were rewritten.",
    auth: "admin",
    responses: { 200: { description: "its receipt", schema: erasureView }, ...byId, ...errors(403) },
  },
  {
    method: "get",
    path: "/v1/overview",
    tag: "Deliveries",
    summary: "The last minutes per minute (deliveries, attempts, failures, dead letters) and the slowest endpoints, from the delivery log.",
    auth: "admin",
    query: overviewQuery,
    responses: { 200: { description: "the overview", schema: overviewView }, ...authenticated, ...errors(403, 422) },
  },
  {
    method: "get",
    path: "/v1/openapi.json",
    tag: "Operations",
    summary: "This document.",
    auth: "none",
    responses: { 200: { description: "OpenAPI 3.1", schema: z.record(z.string(), z.unknown()) } },
  },
  {
    method: "get",
    path: "/healthz",
    tag: "Operations",
    summary: "The process is up.",
    auth: "none",
    responses: { 200: { description: "up", schema: z.object({ status: z.literal("ok") }) } },
  },
  {
    method: "get",
    path: "/readyz",
    tag: "Operations",
    summary: "Redis answers.",
    auth: "none",
    responses: {
      200: { description: "ready", schema: z.object({ status: z.string() }) },
      503: { description: "Redis unreachable", schema: z.object({ status: z.string() }) },
    },
  },
  {
    method: "get",
    path: "/metrics",
    tag: "Operations",
    summary: "Prometheus metrics; behind a bearer token when HOOKBUS_METRICS_TOKEN is set.",
    auth: "metrics",
    responses: { 200: { description: "Prometheus text format", contentType: "text/plain" }, ...errors(401) },
  },
  {
    method: "post",
    path: "/v1/projects",
    tag: "Projects",
    summary: "Make a project (a MyDataHelps project's GUID may be its id).",
    auth: "operator",
    body: createProjectBody,
    responses: {
      201: { description: "made", schema: projectView },
      ...withBody,
      ...errors(403),
      409: { description: "a project with that id exists", schema: errorBody },
    },
  },
  {
    method: "get",
    path: "/v1/projects",
    tag: "Projects",
    summary: "Every project to an operator key; its own to a project's key.",
    auth: "admin",
    responses: { 200: { description: "the projects", schema: projectList }, ...authenticated, ...errors(403) },
  },
  {
    method: "get",
    path: "/v1/projects/:id",
    params: { id: idParam.project },
    tag: "Projects",
    summary: "A project.",
    auth: "admin",
    responses: { 200: { description: "the project", schema: projectView }, ...byId, ...errors(403) },
  },
  {
    method: "patch",
    path: "/v1/projects/:id",
    params: { id: idParam.project },
    tag: "Projects",
    summary: "Rename a project or change its defaults; `null` clears one.",
    auth: "admin",
    body: updateProjectBody,
    responses: { 200: { description: "the project", schema: projectView }, ...withBody, ...byId, ...errors(403) },
  },
  {
    method: "delete",
    path: "/v1/projects/:id",
    params: { id: idParam.project },
    tag: "Projects",
    summary: "Delete a project and its keys; refused while it has subscriptions or schedules unless `cascade=true` deletes them too.",
    auth: "operator",
    query: deleteProjectQuery,
    responses: {
      204: { description: "deleted" },
      ...byId,
      ...errors(403, 422),
      409: { description: "it has subscriptions or schedules (pass cascade=true), or it is the default project", schema: errorBody },
    },
  },
  {
    method: "post",
    path: "/v1/projects/:id/keys",
    params: { id: idParam.project },
    tag: "Projects",
    summary: "Make an API key of the project; the answer is the only place the key is shown.",
    auth: "admin",
    body: createProjectKeyBody,
    responses: { 201: { description: "the key, shown once", schema: projectKeyWithSecret }, ...withBody, ...byId, ...errors(403) },
  },
  {
    method: "get",
    path: "/v1/projects/:id/keys",
    params: { id: idParam.project },
    tag: "Projects",
    summary: "The project's API keys: names, roles, when made and last used; never the keys.",
    auth: "admin",
    responses: { 200: { description: "the keys", schema: projectKeyList }, ...byId, ...errors(403) },
  },
  {
    method: "delete",
    path: "/v1/projects/:id/keys/:keyId",
    params: { id: idParam.project, keyId: idParam.key },
    tag: "Projects",
    summary: "Revoke a key: every ingest refuses it within a second.",
    auth: "admin",
    responses: { 204: { description: "revoked" }, ...byId, ...errors(403) },
  },
  {
    method: "get",
    path: "/v1/audit",
    tag: "Audit",
    summary: "The audit trail, newest first, filtered, a page at a time: who changed what, when, from where, with old and new values.",
    auth: "admin",
    query: auditListQuery,
    responses: { 200: { description: "a page", schema: auditPage }, ...authenticated, ...errors(403, 404, 422) },
  },
  {
    method: "get",
    path: "/v1/audit/verify",
    tag: "Audit",
    summary: "Walk the audit trail's hash chain: ok with the number of entries, or the first entry that does not match.",
    auth: "operator",
    responses: { 200: { description: "the chain's state", schema: auditVerifyResult }, ...authenticated, ...errors(403) },
  },
  {
    method: "get",
    path: "/v1/audit/export",
    tag: "Audit",
    summary: "Every entry the filter names, oldest first, streamed as NDJSON (one AuditEntry a line) for archiving.",
    auth: "admin",
    query: auditFilter,
    responses: {
      200: { description: "one JSON AuditEntry per line", contentType: "application/x-ndjson" },
      ...authenticated,
      ...errors(403, 404, 422),
    },
  },
  {
    method: "post",
    path: "/v1/schedules",
    tag: "Schedules",
    summary: "Make a schedule: it fires schedule.triggered with its data by cron (in a time zone), every so often, or once at a time.",
    auth: "admin",
    body: createScheduleBody,
    responses: { 201: { description: "made", schema: scheduleView }, ...withBody, ...errors(403) },
  },
  {
    method: "post",
    path: "/v1/schedules/batch",
    tag: "Schedules",
    summary: "Make up to 1,000 schedules (one per participant, say); each item is made or refused on its own.",
    auth: "admin",
    body: createScheduleBatchBody,
    responses: {
      201: {
        description: "one item per schedule, in order (an item naming another project's participants answers its 403 error)",
        schema: scheduleBatchResult,
      },
      ...withBody,
      ...errors(403),
    },
  },
  {
    method: "get",
    path: "/v1/schedules",
    tag: "Schedules",
    summary: "List schedules in creation order, a page at a time, each with its next and latest fire.",
    auth: "admin",
    query: scheduleListQuery,
    responses: { 200: { description: "a page", schema: schedulePage }, ...authenticated, ...errors(403, 422) },
  },
  {
    method: "get",
    path: "/v1/schedules/:id",
    params: { id: idParam.schedule },
    tag: "Schedules",
    summary: "One schedule, with its latest fires and the events they published.",
    auth: "admin",
    responses: { 200: { description: "the schedule", schema: scheduleWithFires }, ...byId, ...errors(403) },
  },
  {
    method: "patch",
    path: "/v1/schedules/:id",
    params: { id: idParam.schedule },
    tag: "Schedules",
    summary: "Change any field; null clears startAt, endAt or limit; naming cron, every or at retimes it from now.",
    auth: "admin",
    body: updateScheduleBody,
    responses: { 200: { description: "the schedule", schema: scheduleView }, ...withBody, ...byId, ...errors(403) },
  },
  {
    method: "delete",
    path: "/v1/schedules/:id",
    params: { id: idParam.schedule },
    tag: "Schedules",
    summary: "Delete a schedule; the events it fired stay.",
    auth: "admin",
    responses: { 204: { description: "deleted" }, ...byId, ...errors(403) },
  },
  {
    method: "post",
    path: "/v1/schedules/:id/pause",
    params: { id: idParam.schedule },
    tag: "Schedules",
    summary: "Stop a schedule's fires until it is resumed.",
    auth: "admin",
    responses: { 200: { description: "the schedule", schema: scheduleView }, ...byId, ...errors(403) },
  },
  {
    method: "post",
    path: "/v1/schedules/:id/resume",
    params: { id: idParam.schedule },
    tag: "Schedules",
    summary: "Fire again; the fires missed while paused follow its catchUp.",
    auth: "admin",
    responses: { 200: { description: "the schedule", schema: scheduleView }, ...byId, ...errors(403) },
  },
];
