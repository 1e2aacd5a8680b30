import { createHash } from "node:crypto";
import { stringify } from "safe-stable-stringify";
import type { AuditAction, AuditActor, AuditEntry, AuditVerifyResult } from "@hookbus/schemas";
import { maskSecrets } from "../policy/audit-masking.js";
import { newId } from "../policy/ids.js";
import type { Keys } from "./keys.js";
import { defineScript, readLua, type RedisConnection } from "./redis.js";

const APPEND = readLua(import.meta.url, "append-audit-entry.lua");

/** What the first entry chains to. */
const GENESIS = "0".repeat(64);
/** Entries read from Redis at a time by a listing, the export and verify. */
const READ_BATCH = 500;
/** Entries one page of a filtered listing reads at most before it answers with what it found and a cursor. */
const MAX_SCANNED_PER_PAGE = 10_000;

/** Hookbus itself, as the actor of what it does on its own (a subscription disabled for 410, a replay's end). */
export function systemActor(reason: string): AuditActor {
  return { keyId: "system", name: "Hookbus", role: "system", reason };
}

/** One action to record: the trail adds its id, number, time and hashes. */
export interface AuditRecord {
  actor: AuditActor;
  action: AuditAction;
  resourceType: string;
  resourceId: string;
  projectId?: string;
  /** Masked by the trail whatever the caller did (see maskSecrets). */
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  requestId?: string;
  clientAddress?: string;
  outcome?: "succeeded" | "failed";
}

/** Which entries, times in ms. */
export interface AuditQuery {
  projectId?: string;
  /** A key id or a key's name. */
  actor?: string;
  action?: AuditAction;
  resourceId?: string;
  since?: number;
  until?: number;
}

type RawEntry = [streamId: string, fields: string[]];

/** The stored fields of one entry, as the append script wrote them. */
interface Stored {
  streamId: string;
  seq: number;
  time: number;
  prev: string;
  hash: string;
  body: string;
}

/**
 * The audit trail: append-only, each entry chained to the one before by a SHA-256 over its
 * canonical form (see append-audit-entry.lua), so that an entry changed or deleted in Redis is
 * found by verify. Nothing here changes or deletes an entry but the retention, which leaves an
 * anchor the remaining chain starts from.
 */
export class AuditTrail {
  private readonly appendScript;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    /** How long entries are kept, ms; undefined: for ever. */
    private readonly retentionMs: number | undefined,
  ) {
    this.appendScript = defineScript<[string, number, number, string, string]>(redis, "hookbusAppendAudit", 2, APPEND);
  }

  async append(record: AuditRecord): Promise<AuditEntry> {
    // The canonical form: keys sorted, undefined fields left out (an object always stringifies).
    const body = stringify({
      ...record,
      id: newId("aud"),
      before: record.before && maskSecrets(record.before),
      after: record.after && maskSecrets(record.after),
      outcome: record.outcome ?? "succeeded",
    })!;
    const [streamId, seq, time, hash, prev] = await this.appendScript.run(
      [this.keys.auditEntries(), this.keys.auditHead()],
      [body, sha256(body), this.retentionMs ?? 0],
    );
    return view({ streamId, seq, time: Number(time), prev, hash, body });
  }

  /**
   * A page of entries, newest first, from before `cursor`. Filters other than time are applied
   * as entries are read: a page that read MAX_SCANNED_PER_PAGE entries answers with what it has.
   */
  async page(query: AuditQuery, limit: number, cursor?: string): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
    const items: AuditEntry[] = [];
    let end = cursor ? `(${cursor}` : query.until !== undefined ? `${query.until - 1}-18446744073709551615` : "+";
    const start = query.since !== undefined ? `${query.since}-0` : "-";
    for (let scanned = 0; scanned < MAX_SCANNED_PER_PAGE; ) {
      const raw = (await this.redis.xrevrange(this.keys.auditEntries(), end, start, "COUNT", READ_BATCH)) as RawEntry[];
      for (const entry of raw.map(parse)) {
        scanned++;
        end = `(${entry.streamId}`;
        const shown = view(entry);
        if (!matches(shown, query)) continue;
        items.push(shown);
        if (items.length === limit) return { items, nextCursor: entry.streamId };
      }
      if (raw.length < READ_BATCH) return { items };
    }
    return { items, nextCursor: end.slice(1) };
  }

  /** Every entry the query names, oldest first, read a batch at a time: what the export streams. */
  async *entries(query: AuditQuery = {}): AsyncIterable<AuditEntry> {
    for await (const batch of this.storedInOrder(query)) {
      for (const entry of batch) {
        const shown = view(entry);
        if (matches(shown, query)) yield shown;
      }
    }
  }

  /**
   * Walks the chain from its first kept entry to its head: each entry must be numbered next,
   * chain to the hash before it and hash to what it says; the last must be the head.
   */
  async verify(): Promise<AuditVerifyResult> {
    const head = await this.redis.hgetall(this.keys.auditHead());
    let expectedSeq = Number(head.anchorSeq ?? 0) + 1;
    let expectedPrev = head.anchorHash ?? GENESIS;
    let entries = 0;
    const broken = (reason: string, id?: string): AuditVerifyResult => ({
      ok: false,
      entries,
      mismatch: { seq: expectedSeq, ...(id ? { id } : {}), reason },
    });
    for await (const batch of this.storedInOrder({})) {
      for (const entry of batch) {
        const id = idIn(entry.body);
        if (entry.seq !== expectedSeq)
          return broken(`entry ${entry.seq} follows entry ${expectedSeq - 1}: the entries between were deleted`, id);
        if (entry.prev !== expectedPrev) return broken("it does not chain to the hash of the entry before it", id);
        if (canonicalHash(entry) !== entry.hash) return broken("its content does not match its hash: it was changed", id);
        entries++;
        expectedSeq++;
        expectedPrev = entry.hash;
      }
    }
    const headSeq = Number(head.seq ?? 0);
    if (headSeq !== expectedSeq - 1 || (head.hash ?? GENESIS) !== expectedPrev)
      return broken(`the chain ends at entry ${expectedSeq - 1} but its head is entry ${headSeq}: the last entries were deleted`);
    return { ok: true, entries };
  }

  private async *storedInOrder(query: AuditQuery): AsyncIterable<Stored[]> {
    let start = query.since !== undefined ? `${query.since}-0` : "-";
    const end = query.until !== undefined ? `${query.until - 1}-18446744073709551615` : "+";
    for (;;) {
      const raw = (await this.redis.xrange(this.keys.auditEntries(), start, end, "COUNT", READ_BATCH)) as RawEntry[];
      if (raw.length === 0) return;
      const batch = raw.map(parse);
      yield batch;
      if (raw.length < READ_BATCH) return;
      start = `(${batch.at(-1)!.streamId}`;
    }
  }
}

/** SHA-256 of an entry's canonical form, as the append script computes it. */
function canonicalHash({ seq, time, prev, body }: Stored): string {
  return sha256(`${seq}\n${time}\n${prev}\n${sha256(body)}`);
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function parse([streamId, fields]: RawEntry): Stored {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  return { streamId, seq: Number(f.seq), time: Number(f.time), prev: f.prev ?? "", hash: f.hash ?? "", body: f.body ?? "" };
}

function view(stored: Stored): AuditEntry {
  const body = JSON.parse(stored.body) as Omit<AuditEntry, "seq" | "time" | "prevHash" | "hash">;
  return { ...body, seq: Number(stored.seq), time: new Date(stored.time).toISOString(), prevHash: stored.prev, hash: stored.hash };
}

/** The entry's id, when its body still parses: a broken entry is named if it can be. */
function idIn(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { id?: string }).id;
  } catch {
    return undefined;
  }
}

function matches(entry: AuditEntry, query: AuditQuery): boolean {
  return (
    (query.projectId === undefined || entry.projectId === query.projectId) &&
    (query.actor === undefined || entry.actor.keyId === query.actor || entry.actor.name === query.actor) &&
    (query.action === undefined || entry.action === query.action) &&
    (query.resourceId === undefined || entry.resourceId === query.resourceId)
  );
}
