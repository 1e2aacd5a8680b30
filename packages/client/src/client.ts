import type {
  AuditEntry,
  AuditFilter,
  AuditListQuery,
  AuditPage,
  AuditVerifyResult,
  BatchPublishResult,
  BulkReplayBody,
  CreateProjectBody,
  CreateErasureBody,
  CreateProjectKeyBody,
  CreateScheduleBody,
  CreateSubscriptionBody,
  DeliveryFilter,
  DeliveryListQuery,
  DeliveryPage,
  DeliveryView,
  DeliveryWithAttempts,
  ErasureView,
  EventView,
  KeyUsageView,
  OverviewQuery,
  OverviewView,
  ProjectKeyList,
  ProjectKeyWithSecret,
  ProjectList,
  ProjectView,
  PublishBody,
  PublishResult,
  ReplayDryRun,
  ReplayStarted,
  ReplayView,
  ResealBody,
  ResealResult,
  ScheduleBatchResult,
  ScheduleListQuery,
  SchedulePage,
  ScheduleView,
  ScheduleWithFires,
  SendSampleBody,
  SendSampleResult,
  SubscriptionListQuery,
  SubscriptionPage,
  SubscriptionStatsView,
  SubscriptionView,
  SubscriptionWithSecret,
  SyncPublishResult,
  UpdateProjectBody,
  UpdateScheduleBody,
  UpdateSubscriptionBody,
} from "@hookbus/schemas";
import { Transport, type HookbusClientOptions } from "./transport.js";

/**
 * A listing's query as the schemas take it, but with `limit` a number: the schemas coerce it
 * from the query string, so their input type is `unknown`.
 */
export type ListQuery<Query extends { limit?: unknown }> = Omit<Query, "limit"> & { limit?: number };

/** A publish's answer: with `sync` when sync subscriptions matched and were waited for. */
export type PublishAnswer = PublishResult & Partial<Pick<SyncPublishResult, "sync">>;

export interface PublishOptions {
  /**
   * Makes the publish safe to retry: the same key again (from the same API key) returns the
   * first event and delivers nothing new. It travels as the event's `id`, which it replaces.
   */
  idempotencyKey?: string;
}

/** A bulk replay's start: a count with `dryRun: true`, else the replay begun. */
interface StartReplay {
  (body: BulkReplayBody & { dryRun: true }): Promise<ReplayDryRun>;
  (body?: BulkReplayBody & { dryRun?: false }): Promise<ReplayStarted>;
  (body?: BulkReplayBody): Promise<ReplayStarted | ReplayDryRun>;
}

/** How a long-running operation (a bulk replay, an erasure) is followed until it is done. */
export interface FollowOptions<Progress> {
  /** Called with each progress read, the last one done. */
  onProgress?: (progress: Progress) => void;
  /** How often progress is read, ms (default 500). */
  pollMs?: number;
  /** Stops following (the operation itself goes on). */
  signal?: AbortSignal;
}

export type ReplayRunOptions = FollowOptions<ReplayView>;

/** A whole reseal: the pages' counts added up, and the keys in use at its end. */
export interface ResealSummary {
  checked: number;
  resealed: number;
  /** Subscriptions whose secrets the ingest cannot read, so could not reseal. */
  unreadable: string[];
  /** Participant index sets renamed under the sealing key. */
  reindexed: number;
  keys: KeyUsageView;
}

const path = (template: TemplateStringsArray, ...ids: string[]) =>
  template.reduce((out, part, i) => out + part + (i < ids.length ? encodeURIComponent(ids[i]!) : ""), "");

/**
 * The Hookbus HTTP API, typed from its contract (@hookbus/schemas). Works wherever fetch
 * does: Node 20 and browsers.
 */
export class HookbusClient {
  private readonly http: Transport;

  constructor(options: HookbusClientOptions) {
    this.http = new Transport(options);
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /**
   * Publishes one event. Answers once it is stored, or, when sync subscriptions match, once
   * their receivers have answered (each within its timeout): then `sync` carries their answers.
   */
  publish(event: PublishBody, options: PublishOptions = {}): Promise<PublishAnswer> {
    const body = options.idempotencyKey === undefined ? event : { ...event, id: options.idempotencyKey };
    return this.http.request("POST", "/v1/events", { body });
  }

  /** Publishes up to 1,000 events; each item of the answer is accepted or says why not. */
  publishBatch(events: PublishBody[]): Promise<BatchPublishResult> {
    return this.http.request("POST", "/v1/events/batch", { body: { events } });
  }

  readonly events = {
    get: (id: string): Promise<EventView> => this.http.request("GET", path`/v1/events/${id}`),
  };

  readonly subscriptions = {
    list: (query: ListQuery<SubscriptionListQuery> = {}): Promise<SubscriptionPage> =>
      this.http.request("GET", "/v1/subscriptions", { query }),
    /** Every subscription (of one project, when named), a page at a time. */
    iterate: (query: Pick<SubscriptionListQuery, "projectId"> = {}): AsyncIterable<SubscriptionView> =>
      pages((cursor) => this.subscriptions.list({ ...query, limit: 500, cursor })),
    get: (id: string): Promise<SubscriptionView> => this.http.request("GET", path`/v1/subscriptions/${id}`),
    /** The answer carries the signing secret: the only time it is shown. */
    create: (body: CreateSubscriptionBody): Promise<SubscriptionWithSecret> => this.http.request("POST", "/v1/subscriptions", { body }),
    update: (id: string, patch: UpdateSubscriptionBody): Promise<SubscriptionView> =>
      this.http.request("PATCH", path`/v1/subscriptions/${id}`, { body: patch }),
    delete: (id: string): Promise<void> => this.http.request("DELETE", path`/v1/subscriptions/${id}`),
    /** A new secret, shown in the answer; the old one keeps signing during the overlap. */
    rotateSecret: (id: string): Promise<SubscriptionWithSecret> => this.http.request("POST", path`/v1/subscriptions/${id}/rotate-secret`),
    stats: (id: string): Promise<SubscriptionStatsView> => this.http.request("GET", path`/v1/subscriptions/${id}/stats`),
    /** Sends a made-up event and waits for the receiver's answer. */
    sendSample: (id: string, body: SendSampleBody = {}): Promise<SendSampleResult> =>
      this.http.request("POST", path`/v1/subscriptions/${id}/test`, { body }),
  };

  readonly deliveries = {
    /** One page, newest first; pass its nextCursor as the next cursor. */
    list: (query: ListQuery<DeliveryListQuery> = {}): Promise<DeliveryPage> => this.http.request("GET", "/v1/deliveries", { query }),
    /** Every delivery the filter names, newest first, read a page at a time as you go. */
    iterate: (filter: DeliveryFilter = {}, pageSize = 500): AsyncIterable<DeliveryView> =>
      pages((cursor) => this.deliveries.list({ ...filter, limit: pageSize, cursor })),
    get: (id: string): Promise<DeliveryWithAttempts> => this.http.request("GET", path`/v1/deliveries/${id}`),
    /** Sends one delivery again, under the same webhook-id. */
    replay: (id: string): Promise<DeliveryView> => this.http.request("POST", path`/v1/deliveries/${id}/replay`),
  };

  /** The last minutes per minute (deliveries, attempts, failures, dead letters) and the slowest endpoints. */
  overview(query: OverviewQuery = {}): Promise<OverviewView> {
    return this.http.request("GET", "/v1/overview", { query });
  }

  /** Projects: an operator key makes and deletes them; a project's admin key reads and renames its own. */
  readonly projects = {
    /** Every project to an operator key; its own to a project's key. */
    list: (): Promise<ProjectList> => this.http.request("GET", "/v1/projects"),
    get: (id: string): Promise<ProjectView> => this.http.request("GET", path`/v1/projects/${id}`),
    create: (body: CreateProjectBody): Promise<ProjectView> => this.http.request("POST", "/v1/projects", { body }),
    update: (id: string, patch: UpdateProjectBody): Promise<ProjectView> =>
      this.http.request("PATCH", path`/v1/projects/${id}`, { body: patch }),
    /** Refused (409) while it has subscriptions, unless `cascade` deletes them with it. */
    delete: (id: string, options: { cascade?: boolean } = {}): Promise<void> =>
      this.http.request("DELETE", path`/v1/projects/${id}`, { query: { cascade: options.cascade ? "true" : undefined } }),
  };

  /** Schedules: each fires schedule.triggered events in its project. */
  readonly schedules = {
    list: (query: ListQuery<ScheduleListQuery> = {}): Promise<SchedulePage> => this.http.request("GET", "/v1/schedules", { query }),
    /** Every schedule (of one project, when named), a page at a time. */
    iterate: (query: Pick<ScheduleListQuery, "projectId"> = {}): AsyncIterable<ScheduleView> =>
      pages((cursor) => this.schedules.list({ ...query, limit: 500, cursor })),
    /** With its latest fires, each naming the event it published. */
    get: (id: string): Promise<ScheduleWithFires> => this.http.request("GET", path`/v1/schedules/${id}`),
    create: (body: CreateScheduleBody): Promise<ScheduleView> => this.http.request("POST", "/v1/schedules", { body }),
    /** Up to 1,000 at once; each item of the answer is made or says why not. */
    createBatch: (schedules: CreateScheduleBody[]): Promise<ScheduleBatchResult> =>
      this.http.request("POST", "/v1/schedules/batch", { body: { schedules } }),
    update: (id: string, patch: UpdateScheduleBody): Promise<ScheduleView> =>
      this.http.request("PATCH", path`/v1/schedules/${id}`, { body: patch }),
    delete: (id: string): Promise<void> => this.http.request("DELETE", path`/v1/schedules/${id}`),
    pause: (id: string): Promise<ScheduleView> => this.http.request("POST", path`/v1/schedules/${id}/pause`),
    /** The fires missed while paused follow the schedule's catchUp. */
    resume: (id: string): Promise<ScheduleView> => this.http.request("POST", path`/v1/schedules/${id}/resume`),
  };

  /** A project's API keys. */
  readonly keys = {
    /** The answer carries the key: the only time it is shown. */
    create: (projectId: string, body: CreateProjectKeyBody): Promise<ProjectKeyWithSecret> =>
      this.http.request("POST", path`/v1/projects/${projectId}/keys`, { body }),
    /** Names, roles, when made and last used; never the keys. */
    list: (projectId: string): Promise<ProjectKeyList> => this.http.request("GET", path`/v1/projects/${projectId}/keys`),
    /** Every ingest refuses the key within a second. */
    revoke: (projectId: string, keyId: string): Promise<void> => this.http.request("DELETE", path`/v1/projects/${projectId}/keys/${keyId}`),
  };

  readonly secrets = {
    /** The encryption keys subscriptions' secrets are sealed with, each with how many it seals. */
    keys: (): Promise<KeyUsageView> => this.http.request("GET", "/v1/secrets/keys"),
    /** Reseals one page of subscriptions under the sealing key; pass its nextCursor for the next. */
    resealPage: (body: ResealBody = {}): Promise<ResealResult> => this.http.request("POST", "/v1/secrets/reseal", { body }),
    /** Reseals every subscription, a page at a time, calling `onProgress` with the sum so far after each. */
    reseal: async (options: { onProgress?: (soFar: ResealSummary) => void; pageSize?: number } = {}): Promise<ResealSummary> => {
      let cursor: string | undefined;
      let soFar: ResealSummary | undefined;
      do {
        const page = await this.secrets.resealPage({ cursor, limit: options.pageSize });
        soFar = {
          checked: (soFar?.checked ?? 0) + page.checked,
          resealed: (soFar?.resealed ?? 0) + page.resealed,
          unreadable: [...(soFar?.unreadable ?? []), ...page.unreadable],
          reindexed: (soFar?.reindexed ?? 0) + page.reindexed,
          keys: page.keys,
        };
        options.onProgress?.(soFar);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return soFar;
    },
  };

  /** The audit trail: who changed what, when, with old and new values. Read only. */
  readonly audit = {
    /** One page, newest first; pass its nextCursor as the next cursor. */
    list: (query: ListQuery<AuditListQuery> = {}): Promise<AuditPage> => this.http.request("GET", "/v1/audit", { query }),
    /** Every entry the filter names, newest first, read a page at a time as you go. */
    iterate: (filter: AuditFilter = {}, pageSize = 500): AsyncIterable<AuditEntry> =>
      pages((cursor) => this.audit.list({ ...filter, limit: pageSize, cursor })),
    /** Walks the hash chain (an operator key's): ok, or the first entry that does not match. */
    verify: (): Promise<AuditVerifyResult> => this.http.request("GET", "/v1/audit/verify"),
    /** Every entry the filter names, oldest first, as the server streams them: for archiving. */
    export: (filter: AuditFilter = {}): AsyncIterable<AuditEntry> => this.exportedAudit(filter),
  };

  private async *exportedAudit(filter: AuditFilter): AsyncIterable<AuditEntry> {
    for await (const line of this.http.lines("/v1/audit/export", filter)) yield JSON.parse(line) as AuditEntry;
  }

  readonly replays = {
    /** Starts a bulk replay (dead letters unless a status is given), or counts it with dryRun. */
    start: ((body: BulkReplayBody = {}) => this.http.request("POST", "/v1/deliveries/replay", { body })) as StartReplay,
    get: (id: string): Promise<ReplayView> => this.http.request("GET", path`/v1/replays/${id}`),
    /** Starts a bulk replay and follows its progress until it is done. */
    run: async (body: Omit<BulkReplayBody, "dryRun"> = {}, options: ReplayRunOptions = {}): Promise<ReplayView> => {
      const started = await this.replays.start({ ...body, dryRun: false });
      for (;;) {
        const replay = await this.replays.get(started.id);
        options.onProgress?.(replay);
        if (replay.status === "done") return replay;
        await pause(options.pollMs ?? 500, options.signal);
      }
    },
  };

  readonly erasures = {
    /**
     * Erases one participant's data (exactly one of participantId, participantIdentifier,
     * transId). A small erasure answers done; a large one answers running: follow it with `get`,
     * or use `run`.
     */
    create: (body: CreateErasureBody): Promise<ErasureView> => this.http.request("POST", "/v1/erasures", { body }),
    get: (id: string): Promise<ErasureView> => this.http.request("GET", path`/v1/erasures/${id}`),
    /** Erases and follows the erasure until it is done. */
    run: async (body: CreateErasureBody, options: FollowOptions<ErasureView> = {}): Promise<ErasureView> => {
      let erasure = await this.erasures.create(body);
      for (;;) {
        options.onProgress?.(erasure);
        if (erasure.status === "done") return erasure;
        await pause(options.pollMs ?? 500, options.signal);
        erasure = await this.erasures.get(erasure.id);
      }
    },
  };
}

/** Walks a cursor-paged listing item by item, fetching the next page only when it is needed. */
async function* pages<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>): AsyncIterable<T> {
  let cursor: string | undefined;
  do {
    const { items, nextCursor } = await page(cursor);
    yield* items;
    cursor = nextCursor ?? undefined;
  } while (cursor);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
