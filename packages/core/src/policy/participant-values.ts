import { erasureFields, type ErasureField } from "@hookbus/schemas";

/** One participant value an event carries, by the field it is in. */
export interface ParticipantValue {
  field: ErasureField;
  value: string;
}

/**
 * The participant values an event's data carries. Stored data is the normalised form the
 * schemas accept (MyDataHelps' participantId and participantIdentifier, TrialKit's transId);
 * the legacy PatientID and PatientIdentifier are the same values, rendered only into the
 * native bodies sent to receivers, so erasing by the normalised field erases them too.
 */
export function participantValues(data: Record<string, unknown>): ParticipantValue[] {
  return erasureFields.flatMap((field) => {
    const value = data[field];
    return typeof value === "string" && value !== "" ? [{ field, value }] : [];
  });
}
