import { z } from "zod";
import { idOf, isoTime } from "./primitives.js";
import { projectId } from "./projects.js";

/** The participant fields an erasure may name: what MyDataHelps and TrialKit events carry of a person. */
export const erasureFields = ["participantId", "participantIdentifier", "transId"] as const;
export type ErasureField = (typeof erasureFields)[number];

const participantValue = z.string().min(1).max(1000);

/** Erase one participant's data: exactly one of the fields, optionally within one project. */
export const createErasureBody = z
  .strictObject({
    participantId: participantValue.optional().describe("a MyDataHelps participant's id (PatientID in legacy bodies)"),
    participantIdentifier: participantValue
      .optional()
      .describe("a MyDataHelps participant's identifier (PatientIdentifier in legacy bodies)"),
    transId: participantValue.optional().describe("a TrialKit record's trans_id"),
    projectId: projectId.optional().describe("erase in this project only; a project's key erases in its own"),
  })
  .refine((body) => erasureFields.filter((field) => body[field] !== undefined).length === 1, {
    message: `name exactly one of ${erasureFields.join(", ")}`,
  });
export type CreateErasureBody = z.infer<typeof createErasureBody>;

/** Whether Redis's append-only file was rewritten so that no file under its data directory keeps what was erased. */
export const erasurePersistence = z.object({
  status: z
    .enum(["pending", "rewritten", "refused", "failed", "not_enabled"])
    .describe(
      "pending until the rewrite ends; refused when Redis refused BGREWRITEAOF (see the README); failed when the rewrite did not end well; not_enabled when Redis keeps no append-only file",
    ),
  finishedAt: isoTime.optional(),
  /** Redis's own words when it refused or failed. */
  message: z.string().optional(),
});

/** An erasure's receipt: what it erased, never the value it was asked to erase. */
export const erasureView = z.object({
  id: idOf("era"),
  status: z.enum(["running", "done"]),
  field: z.enum(erasureFields),
  projectId: projectId.optional(),
  createdAt: isoTime,
  finishedAt: isoTime.optional(),
  /** Events found to erase (known once they are found). */
  total: z.number().int(),
  events: z.number().int(),
  deliveries: z.number().int(),
  attempts: z.number().int(),
  persistence: erasurePersistence,
});
export type ErasureView = z.infer<typeof erasureView>;
