import { Validator } from "@seriousme/openapi-schema-validator";
import type { Express } from "express";
import { apiRoutes, openApiPath } from "@hookbus/schemas";
import { TestHookbus } from "./support/harness.js";

let hookbus: TestHookbus;

beforeAll(async () => {
  hookbus = await TestHookbus.start({ worker: false });
});

afterAll(async () => {
  await hookbus.stop();
});

/** Pages for people, not API routes: the document does not describe them. */
const PAGES = [/^\/docs$/, /^\/docs\/redoc-[\d.]+\.js$/, /^\/console(\/assets\/:file)?$/];

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  slash?: boolean;
  matchers?: ((path: string) => unknown)[];
}

/**
 * Every method and path the app serves, from its router stack, and what is mounted below the
 * root: middleware and sub-apps under a path of their own, named by the one path they answer.
 */
function servedRoutes(app: Express): { routes: string[]; mounts: string[] } {
  const routes: string[] = [];
  const mounts = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== "_all") routes.push(`${method.toUpperCase()} ${layer.route.path}`);
      } else if (!layer.slash) {
        mounts.add(layer.matchers?.[0]?.("/admin/queues") ? "/admin/queues" : "another path");
      } else if (layer.handle.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return { routes, mounts: [...mounts] };
}

test("the OpenAPI document is valid OpenAPI 3.1", async () => {
  const response = await fetch(`${hookbus.url}/v1/openapi.json`);
  expect(response.status).toBe(200);
  const document = await response.json();
  expect(document.openapi).toBe("3.1.0");
  const result = await new Validator().validate(document);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(Object.keys(document.components.securitySchemes).sort()).toEqual(["adminKey", "metricsToken", "operatorKey", "publisherKey"]);
});

test("every route the ingest serves is in the document, and every documented route is served", async () => {
  const document = await (await fetch(`${hookbus.url}/v1/openapi.json`)).json();
  const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
  const { routes, mounts } = servedRoutes(hookbus.ingest.app);
  const served = routes
    .filter((route) => !PAGES.some((page) => page.test(route.split(" ")[1]!)))
    .map((route) => `${route.split(" ")[0]} ${openApiPath(route.split(" ")[1]!)}`)
    .sort();
  expect(served).toEqual(documented);
  expect(served).toHaveLength(apiRoutes.length);
  // The one sub-app below the root is the queue dashboard, a page of its own.
  expect(mounts).toEqual(["/admin/queues"]);
});

test("each documented operation lists its error answers with the error body", async () => {
  const document = await (await fetch(`${hookbus.url}/v1/openapi.json`)).json();
  expect(document.components.schemas.ErrorBody.required).toEqual(["error"]);
  for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      const secured = (operation.security as object[]).length > 0;
      if (secured && path.startsWith("/v1/")) {
        expect([`${method} ${path}`, Object.keys(operation.responses)]).toEqual([
          `${method} ${path}`,
          expect.arrayContaining(["401", "429", "503"]),
        ]);
        expect(operation.responses["401"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ErrorBody" });
      }
    }
  }
});

test("each operation demands the key its document names: no key is 401, a publisher key 403 exactly where 403 is documented", async () => {
  const document = await (await fetch(`${hookbus.url}/v1/openapi.json`)).json();
  let checked = 0;
  for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
    if (!path.startsWith("/v1/")) continue;
    // Any id will do: the key is checked before the id is looked up.
    const url = path.replace(/\{\w+\}/g, "sub_01M881QN0JYS8BDKMBBAYD0C53");
    for (const [method, operation] of Object.entries(operations)) {
      if ((operation.security as object[]).length === 0) continue;
      const body = operation.requestBody ? {} : undefined;
      const anonymous = await hookbus.api(method.toUpperCase(), url, body, null);
      expect([method, path, anonymous.status, anonymous.body.error]).toEqual([method, path, 401, expect.any(String)]);
      const asPublisher = await hookbus.api(method.toUpperCase(), url, body, hookbus.config.publisherKey);
      // 403 is documented wherever a key may be refused: a publisher key on every route it may not call.
      const adminOnly = !operation.security.some((s: object) => "publisherKey" in s);
      expect([method, path, asPublisher.status === 403]).toEqual([method, path, adminOnly]);
      if (adminOnly) expect([method, path, "403" in operation.responses]).toEqual([method, path, true]);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(10);
});

test("the reference pages load their renderer from the ingest itself, and name nothing outside it", async () => {
  const page = await fetch(`${hookbus.url}/docs`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toMatch(/^text\/html/);
  expect(page.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
  const html = await page.text();
  expect(html).toContain('spec-url="/v1/openapi.json"');
  expect(html).not.toMatch(/https?:\/\//);
  const [, scriptPath] = /<script src="([^"]+)"/.exec(html) ?? [];
  expect(scriptPath).toMatch(/^\/docs\//);
  const script = await fetch(`${hookbus.url}${scriptPath}`);
  expect(script.status).toBe(200);
  expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
  expect(script.headers.get("cache-control")).toMatch(/immutable/);
  expect((await script.text()).length).toBeGreaterThan(100_000);
});
