import type { AuditRecord } from "../store/audit-trail.js";
import type { SecretBox } from "../policy/secret-box.js";

/** What the audit trail keeps of an erasure: never the value erased. */
export interface ErasureAuditInput {
  erasureId: string;
  projectId?: string;
  /** Which participant field named the data erased. */
  field: "participantId" | "participantIdentifier" | "transId";
  /** The value erased: only its keyed hash is recorded. */
  value: string;
  /** What was erased, e.g. `{events, deliveries, attempts}`. */
  counts: Record<string, number>;
}

/**
 * The audit entry of an erasure, less who asked (see recordAudit in the ingest, or pass
 * `actor: systemActor(...)` to AuditTrail.append for an erasure finished in the background).
 * The value appears only as a keyed hash, so the trail says which participant was erased to
 * whoever holds HOOKBUS_ENCRYPTION_KEY and to no one else.
 */
export function erasureAuditRecord(erasure: ErasureAuditInput, encryption: SecretBox): Omit<AuditRecord, "actor"> {
  return {
    action: "erasure.create",
    resourceType: "erasure",
    resourceId: erasure.erasureId,
    projectId: erasure.projectId,
    after: { field: erasure.field, valueHash: encryption.keyedHash(erasure.value, "erasure value"), counts: erasure.counts },
  };
}
