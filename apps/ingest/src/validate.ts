import type { z } from "zod";
import { RequestValidationError } from "./http-errors.js";

/** Parses a request part with its schema, or throws the 422 that lists the zod issues. */
export function parseOr422<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RequestValidationError(what, parsed.error);
  return parsed.data;
}
