import type { AuditRecord } from "../store/audit-trail.js";
import type { ErasureReceipt } from "./erasure.js";

/**
 * An erasure's audit entry, less who did it: `erasure.create` when an admin asks for it (the
 * route records them as its actor), `erasure.finish` when it is done (Hookbus is the actor,
 * as a large one ends in a worker), with the counts and the keyed hash of the value erased
 * (see ParticipantHasher). The value itself is in neither: the hash names the participant to
 * whoever holds HOOKBUS_ENCRYPTION_KEY and to no one else.
 */
export function erasureAuditRecord(
  action: "erasure.create" | "erasure.finish",
  receipt: ErasureReceipt,
  valueHash?: string,
): Omit<AuditRecord, "actor"> {
  return {
    action,
    resourceType: "erasure",
    resourceId: receipt.id,
    projectId: receipt.projectId,
    after: {
      field: receipt.field,
      status: receipt.status,
      counts: { total: receipt.total, events: receipt.events, deliveries: receipt.deliveries, attempts: receipt.attempts },
      ...(valueHash ? { valueHash } : {}),
      ...(receipt.status === "done" ? { persistence: receipt.persistence.status } : {}),
    },
  };
}
