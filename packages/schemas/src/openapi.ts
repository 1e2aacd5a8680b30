import { z } from "zod";
import { API_TAGS, apiRoutes, NAMED_REQUESTS, NAMED_RESPONSES, type ApiAuth, type ApiRoute } from "./api.js";

type Io = "input" | "output";
const componentRef = (name: string) => `#/components/schemas/${name}`;

/** A registry of named schemas for one direction, so each named one nested in another is a $ref. */
function registryOf(named: Record<string, z.ZodType>) {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  return registry;
}
const registries: Record<Io, z.core.$ZodRegistry<{ id: string }>> = {
  input: registryOf(NAMED_REQUESTS),
  output: registryOf(NAMED_RESPONSES),
};

/** The components of both directions, each as JSON Schema draft 2020-12 as OpenAPI 3.1 embeds it. */
function componentSchemas(): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  for (const io of ["input", "output"] as const) {
    const { schemas } = z.toJSONSchema(registries[io], { io, unrepresentable: "any", uri: componentRef });
    // Each comes with its $ref address as $id, which JSON Schema forbids for a fragment: dropped.
    for (const [name, { $schema: _draft, $id: _address, ...schema }] of Object.entries(schemas)) components[name] = schema;
  }
  return components;
}

/** The JSON Schema of a zod schema, as OpenAPI 3.1 embeds it: a $ref when the schema is named, else inline. */
function jsonSchema(schema: z.ZodType, io: Io): Record<string, unknown> {
  const id = registries[io].get(schema)?.id;
  if (id) return { $ref: componentRef(id) };
  const { $schema: _draft, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

const SECURITY: Record<ApiAuth, Record<string, string[]>[] | undefined> = {
  operator: [{ operatorKey: [] }],
  admin: [{ operatorKey: [] }, { adminKey: [] }],
  publisher: [{ publisherKey: [] }, { operatorKey: [] }, { adminKey: [] }],
  metrics: [{ metricsToken: [] }, {}],
  none: [],
};

// As apps/ingest's auth takes keys: a browser asks for Basic credentials itself.
const BASIC_TOO = "The key is also taken as the password of HTTP Basic auth, with any user name.";

/** `/v1/subscriptions/:id` -> `/v1/subscriptions/{id}` */
export const openApiPath = (expressPath: string) => expressPath.replace(/:(\w+)/g, "{$1}");

function operation(route: ApiRoute) {
  const pathParams = [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => {
    const schema = route.params?.[name!];
    if (!schema) throw new Error(`${route.method} ${route.path}: no schema for its :${name}`);
    return { name: name!, in: "path", required: true, schema: jsonSchema(schema, "input") };
  });
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
    ...(route.body
      ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(route.body, "input") } } } }
      : {}),
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
    tags: API_TAGS.map((name) => ({ name })),
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        operatorKey: {
          type: "http",
          scheme: "bearer",
          description: `An operator key (HOOKBUS_API_KEYS role admin): every route, in every project. ${BASIC_TOO}`,
        },
        adminKey: {
          type: "http",
          scheme: "bearer",
          description: `A project's admin key (made with POST /v1/projects/{id}/keys): every route but the operator's, within its project. ${BASIC_TOO}`,
        },
        publisherKey: {
          type: "http",
          scheme: "bearer",
          description: `A publisher key (HOOKBUS_API_KEYS role publisher, or a project's): publishing only, a project's key in its project. ${BASIC_TOO}`,
        },
        metricsToken: { type: "http", scheme: "bearer", description: "HOOKBUS_METRICS_TOKEN, when set." },
      },
    },
    paths,
  };
}
