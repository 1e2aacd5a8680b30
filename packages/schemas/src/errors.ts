import { z } from "zod";

/** Every 4xx/5xx answer of the API has this body. */
export const errorBody = z.object({
  error: z.string(),
  issues: z
    .array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string(), code: z.string().optional() }))
    .optional(),
});
export type ErrorBody = z.infer<typeof errorBody>;
