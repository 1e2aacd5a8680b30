import { z } from "zod";
import { apiRoutes, type ApiAuth, type ApiRoute } from "./api.js";

/** The JSON Schema of a zod schema, as OpenAPI 3.1 embeds it (draft 2020-12, without its $schema line). */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _draft, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

const SECURITY: Record<ApiAuth, Record<string, string[]>[] | undefined> = {
  admin: [{ adminKey: [] }],
  publisher: [{ publisherKey: [] }, { adminKey: [] }],
  metrics: [{ metricsToken: [] }, {}],
  none: [],
};

/** `/v1/subscriptions/:id` -> `/v1/subscriptions/{id}` */
export const openApiPath = (expressPath: string) => expressPath.replace(/:(\w+)/g, "{$1}");

function operation(route: ApiRoute) {
  const pathParams = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => ({ name: name!, in: "path", required: true, schema: { type: "string" } }));
  const queryParams = Object.entries(route.query?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: !(schema as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(schema as z.ZodType, "input"),
  }));
  const parameters = [...pathParams, ...queryParams];
  return {
    summary: route.summary,
    tags: [route.tag],
    operationId: `${route.method}${route.path.replace(/\/:?(\w)([\w.-]*)/g, (_m, first: string, rest: string) => first.toUpperCase() + rest.replace(/[.-](\w)/g, (_n, c: string) => c.toUpperCase()))}`,
    security: SECURITY[route.auth],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(route.body, "input") } } } } : {}),
    responses: Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => [
        status,
        {
          description: response.description,
          ...(response.schema
            ? { content: { "application/json": { schema: jsonSchema(response.schema, "output") } } }
            : response.contentType
              ? { content: { [response.contentType]: { schema: { type: "string" } } } }
              : {}),
        },
      ]),
    ),
  };
}

/** The OpenAPI 3.1 document of the HTTP API, built from the route table and its zod schemas. */
export function openApiDocument(version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of apiRoutes) (paths[openApiPath(route.path)] ??= {})[route.method] = operation(route);
  return {
    openapi: "3.1.0",
    info: {
      title: "Hookbus",
      version,
      description:
        "Publish events; Hookbus delivers them to subscribed webhooks, signed (Standard Webhooks), retried, and logged. " +
        "Send `Authorization: Bearer KEY`. Errors answer `{error, issues?}`.",
    },
    tags: ["Events", "Subscriptions", "Deliveries", "Replays", "Operations"].map((name) => ({ name })),
    components: {
      securitySchemes: {
        adminKey: { type: "http", scheme: "bearer", description: "An admin key (HOOKBUS_API_KEYS role admin): every route." },
        publisherKey: { type: "http", scheme: "bearer", description: "A publisher key (role publisher): publishing only." },
        metricsToken: { type: "http", scheme: "bearer", description: "HOOKBUS_METRICS_TOKEN, when set." },
      },
    },
    paths,
  };
}
