import { faker } from "@faker-js/faker";
import { fake, setFaker } from "zod-schema-faker/v4";
import { eventDataSchemas, type EventType } from "@hookbus/schemas";

setFaker(faker);

/**
 * Dummy `data` for an event type, made from the type's own zod schema, so a sample always has
 * the shape a real event of that type has, and still does when the schema changes. As on
 * MyDataHelps' "Send Sample", the values are placeholders, not any participant's.
 */
export function sampleData(type: EventType): Record<string, unknown> {
  const schema = eventDataSchemas[type];
  const data = fake(schema) as Record<string, unknown>;
  return schema.parse(data) as Record<string, unknown>;
}
