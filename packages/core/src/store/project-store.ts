import type { RedisConnection } from "./redis.js";
import {
  DEFAULT_PROJECT_ID,
  parseDuration,
  type CreateProjectBody,
  type CreateProjectKeyBody,
  type ProjectKeyRole,
  type UpdateProjectBody,
} from "@hookbus/schemas";
import { apiKeyDigest, newApiKey } from "../policy/api-keys.js";
import { ConflictError, NotFoundError } from "../policy/errors.js";
import { newId } from "../policy/ids.js";
import { parseRetrySchedule } from "../policy/retry.js";
import type { Keys } from "./keys.js";

export interface Project {
  id: string;
  name: string;
  /** Delays (ms) given to subscriptions made in it without a schedule of their own. */
  retrySchedule?: number[];
  /** How long (ms) its events and their deliveries are kept; unset: the configured retention. */
  retention?: number;
  createdAt: number;
  updatedAt: number;
}

export interface ProjectKey {
  id: string;
  projectId: string;
  name: string;
  role: ProjectKeyRole;
  createdAt: number;
  lastUsedAt?: number;
}

/** What a project key lets its holder do: what authentication finds by the key's digest. */
export interface ProjectKeyGrant {
  keyId: string;
  projectId: string;
  role: ProjectKeyRole;
}

/** A key's record as stored: its digest lets a revoke remove the lookup entry; the key itself is never stored. */
type StoredKey = Omit<ProjectKey, "lastUsedAt"> & { digest: string };

/**
 * Projects and their API keys in Redis. A project is one JSON value; its keys a hash of records
 * beside it, each also findable by its digest (SHA-256), which is all authentication reads.
 */
export class ProjectStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
  ) {}

  /** Makes the default project if it is not there: what records written before projects belong to. */
  async ensureDefault(now = Date.now()): Promise<void> {
    const project: Project = { id: DEFAULT_PROJECT_ID, name: "Default", createdAt: now, updatedAt: now };
    await this.redis
      .multi()
      .set(this.keys.project(project.id), JSON.stringify(project), "NX")
      .zadd(this.keys.projects(), "NX", now, project.id)
      .exec();
  }

  async create(body: CreateProjectBody, now = Date.now()): Promise<Project> {
    const project: Project = {
      id: body.id ?? newId("prj", now),
      name: body.name,
      retrySchedule: body.retrySchedule ? parseRetrySchedule(body.retrySchedule) : undefined,
      retention: body.retention === undefined ? undefined : parseDuration(body.retention),
      createdAt: now,
      updatedAt: now,
    };
    const [[, created] = []] = (await this.redis
      .multi()
      .set(this.keys.project(project.id), JSON.stringify(project), "NX")
      .zadd(this.keys.projects(), "NX", now, project.id)
      .exec()) ?? [[]];
    if (created !== "OK") throw new ConflictError(`project ${project.id} exists already`);
    return project;
  }

  async get(id: string): Promise<Project> {
    const raw = await this.redis.get(this.keys.project(id));
    if (!raw) throw new NotFoundError("project", id);
    return JSON.parse(raw) as Project;
  }

  /** Every project, oldest first: a platform has tens or hundreds, read in one round trip. */
  async list(): Promise<Project[]> {
    const ids = await this.redis.zrange(this.keys.projects(), 0, -1);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.keys.project(id)));
    return raws.flatMap((raw) => (raw ? [JSON.parse(raw) as Project] : []));
  }

  /**
   * A name or default changed: two racing changes of one project are rare and harmless, so the
   * last one wins. `check` may refuse the project as changed, by throwing, before it is written.
   */
  async update(id: string, patch: UpdateProjectBody, now = Date.now(), check: (next: Project) => void = () => undefined): Promise<Project> {
    const next: Project = { ...(await this.get(id)), updatedAt: now };
    if (patch.name !== undefined) next.name = patch.name;
    if (patch.retrySchedule === null) delete next.retrySchedule;
    else if (patch.retrySchedule !== undefined) next.retrySchedule = parseRetrySchedule(patch.retrySchedule);
    if (patch.retention === null) delete next.retention;
    else if (patch.retention !== undefined) next.retention = parseDuration(patch.retention);
    check(next);
    // XX: a delete that came in between is not undone.
    if ((await this.redis.set(this.keys.project(id), JSON.stringify(next), "XX")) !== "OK") throw new NotFoundError("project", id);
    return next;
  }

  /**
   * Deletes the project and every key of it, which are refused from then on; returns the keys'
   * digests. Its subscriptions are the caller's.
   */
  async delete(id: string): Promise<string[]> {
    await this.get(id);
    const stored = await this.storedKeys(id);
    await this.redis
      .multi()
      .del(
        this.keys.project(id),
        this.keys.projectKeys(id),
        this.keys.projectKeysUsed(id),
        ...stored.map((k) => this.keys.apiKey(k.digest)),
      )
      .zrem(this.keys.projects(), id)
      .exec();
    return stored.map((k) => k.digest);
  }

  /** Makes a key: the answer is the only place the key itself ever appears. */
  async createKey(projectId: string, body: CreateProjectKeyBody, now = Date.now()): Promise<{ record: ProjectKey; key: string }> {
    await this.get(projectId);
    const key = newApiKey();
    const stored: StoredKey = {
      id: newId("key", now),
      projectId,
      name: body.name,
      role: body.role,
      createdAt: now,
      digest: apiKeyDigest(key),
    };
    const grant: ProjectKeyGrant = { keyId: stored.id, projectId, role: stored.role };
    await this.redis
      .multi()
      .hset(this.keys.projectKeys(projectId), stored.id, JSON.stringify(stored))
      .set(this.keys.apiKey(stored.digest), JSON.stringify(grant))
      .exec();
    return { record: withoutDigest(stored), key };
  }

  async listKeys(projectId: string): Promise<ProjectKey[]> {
    await this.get(projectId);
    const [stored, used] = await Promise.all([this.storedKeys(projectId), this.redis.hgetall(this.keys.projectKeysUsed(projectId))]);
    return stored.map((k) => ({ ...withoutDigest(k), ...(used[k.id] ? { lastUsedAt: Number(used[k.id]) } : {}) }));
  }

  /** Revokes a key: refused by every ingest once its short-lived lookup cache has lapsed. Returns its digest and what it was. */
  async revokeKey(projectId: string, keyId: string): Promise<{ digest: string; key: ProjectKey }> {
    const raw = await this.redis.hget(this.keys.projectKeys(projectId), keyId);
    if (!raw) throw new NotFoundError("key", keyId);
    const stored = JSON.parse(raw) as StoredKey;
    await this.redis
      .multi()
      .del(this.keys.apiKey(stored.digest))
      .hdel(this.keys.projectKeys(projectId), keyId)
      .hdel(this.keys.projectKeysUsed(projectId), keyId)
      .exec();
    return { digest: stored.digest, key: withoutDigest(stored) };
  }

  /** A key's name, for the audit trail; undefined once it is revoked. Read apart from authentication, which needs no name. */
  async keyName(projectId: string, keyId: string): Promise<string | undefined> {
    const raw = await this.redis.hget(this.keys.projectKeys(projectId), keyId);
    return raw ? (JSON.parse(raw) as StoredKey).name : undefined;
  }

  /** What the key with this digest may do; undefined for a key Hookbus did not make or that was revoked. */
  async findKey(digest: string): Promise<ProjectKeyGrant | undefined> {
    const raw = await this.redis.get(this.keys.apiKey(digest));
    return raw ? (JSON.parse(raw) as ProjectKeyGrant) : undefined;
  }

  /** Records that a key was used. Written only while the key still exists: a revoke is not undone. */
  async markUsed(grant: ProjectKeyGrant, now = Date.now()): Promise<void> {
    if (await this.redis.hexists(this.keys.projectKeys(grant.projectId), grant.keyId))
      await this.redis.hset(this.keys.projectKeysUsed(grant.projectId), grant.keyId, now);
  }

  private async storedKeys(projectId: string): Promise<StoredKey[]> {
    const records = await this.redis.hvals(this.keys.projectKeys(projectId));
    return records.map((raw) => JSON.parse(raw) as StoredKey).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }
}

function withoutDigest({ digest: _digest, ...key }: StoredKey): ProjectKey {
  return key;
}
