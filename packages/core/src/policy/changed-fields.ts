import { stringify } from "safe-stable-stringify";

/**
 * The fields that differ between two versions of a record, each side with its values: what an
 * update's entry shows. `stored` are the records as kept, so a change hidden by masking (a
 * header's value) still shows as a change; `shown` are the same records as the API shows them.
 */
export function changedFields(
  stored: { before: object; after: object },
  shown: { before: Record<string, unknown>; after: Record<string, unknown> },
  ignored: string[] = ["updatedAt"],
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const value = (record: object, field: string) => stringify((record as Record<string, unknown>)[field] ?? null);
  const differs = (field: string) => {
    const side = field in stored.before || field in stored.after ? stored : shown;
    return value(side.before, field) !== value(side.after, field);
  };
  const fields = new Set([...Object.keys(shown.before), ...Object.keys(shown.after)]);
  const changed = [...fields].filter((field) => !ignored.includes(field) && differs(field));
  const pick = (values: Record<string, unknown>) => Object.fromEntries(changed.map((field) => [field, values[field] ?? null]));
  return { before: pick(shown.before), after: pick(shown.after) };
}
