import { z } from "zod";
import { idOf, isoTime, pageOf } from "./primitives.js";
import { projectId } from "./projects.js";

/**
 * Who did it: an operator key (HOOKBUS_API_KEYS, id `opk_` and a fingerprint of the key), a
 * project's key (its `key_` id and name), or Hookbus itself with the reason it acted.
 */
export const auditActor = z.object({
  keyId: z.string().describe("`opk_…` for a key of HOOKBUS_API_KEYS (a fingerprint, never the key), `key_…` for a project's key, `system`"),
  name: z.string().optional().describe("the key's name, when it has one"),
  role: z.enum(["operator", "admin", "publisher", "system"]),
  reason: z.string().optional().describe("why the system acted, e.g. gone (410) or failing"),
});
export type AuditActor = z.infer<typeof auditActor>;

/** Every action the audit trail records. */
export const auditActions = [
  "subscription.create",
  "subscription.update",
  "subscription.delete",
  "subscription.enable",
  "subscription.disable",
  "subscription.switch-environment",
  "subscription.rotate-secret",
  "subscription.send-sample",
  "delivery.replay",
  "replay.start",
  "replay.finish",
  "secrets.reseal",
  "project.create",
  "project.update",
  "project.delete",
  "key.create",
  "key.revoke",
  "erasure.create",
  "erasure.finish",
  "schedule.create",
  "schedule.update",
  "schedule.delete",
  "schedule.pause",
  "schedule.resume",
] as const;
export const auditAction = z.enum(auditActions);
export type AuditAction = z.infer<typeof auditAction>;

/** Values as the API shows them: secrets, passwords, header values and keys masked. */
const auditValues = z.record(z.string(), z.unknown());

export const auditEntry = z.object({
  id: idOf("aud"),
  /** Its place in the chain: 1, 2, 3, ... with no gaps. */
  seq: z.number().int().min(1),
  time: isoTime,
  actor: auditActor,
  action: auditAction,
  resourceType: z.string(),
  resourceId: z.string(),
  projectId: projectId.optional().describe("the project the resource belongs to; absent for what spans every project"),
  before: auditValues.optional().describe("a change: the old value of each field that changed; a delete: what was deleted"),
  after: auditValues.optional().describe("a change: the new value of each field that changed; else what was made or done"),
  requestId: z.string().optional().describe("the x-request-id of the API request, as in the logs"),
  clientAddress: z.string().optional(),
  outcome: z.enum(["succeeded", "failed"]),
  prevHash: z.string().describe("the hash of the entry before it (64 zeros for the first)"),
  hash: z
    .string()
    .describe("SHA-256 (hex) of `seq\\ntime(ms)\\nprevHash\\nSHA-256(body)`, body being the entry's other fields as JSON with sorted keys"),
});
export type AuditEntry = z.infer<typeof auditEntry>;

/** Where a page of the trail ends: the stream position of its last entry. */
const auditCursor = z.string().regex(/^\d{1,16}-\d{1,20}$/, "the nextCursor of a previous page");

/** Which entries: the filter of the listing, the export and the CLI. */
export const auditFilter = z.strictObject({
  projectId: projectId.optional().describe("an operator key's choice of project; a project's key sees its own"),
  actor: z.string().min(1).max(200).optional().describe("a key id, or a key's name"),
  action: auditAction.optional(),
  resourceId: z.string().min(1).max(200).optional(),
  /** At or after. */
  since: isoTime.optional(),
  /** Before. */
  until: isoTime.optional(),
});
export type AuditFilter = z.infer<typeof auditFilter>;

export const auditListQuery = auditFilter.extend({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: auditCursor.optional().describe("the nextCursor of the previous page"),
});
export type AuditListQuery = z.input<typeof auditListQuery>;

export const auditPage = pageOf(auditEntry).describe(
  "newest first; a page may hold fewer than `limit` entries when the filter skips many: go on while nextCursor is set",
);
export type AuditPage = z.infer<typeof auditPage>;

/** The chain checked from its first kept entry to its head. */
export const auditVerifyResult = z.union([
  z.object({ ok: z.literal(true), entries: z.number().int() }),
  z.object({
    ok: z.literal(false),
    /** Entries found sound before the first that is not. */
    entries: z.number().int(),
    mismatch: z.object({
      seq: z.number().int().describe("the place in the chain where it breaks"),
      id: z.string().optional().describe("the entry found there, if any"),
      reason: z.string(),
    }),
  }),
]);
export type AuditVerifyResult = z.infer<typeof auditVerifyResult>;
