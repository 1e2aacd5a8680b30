import http from "node:http";
import type { AddressInfo } from "node:net";
import type { RedisConnection } from "@hookbus/core/store";
import type { Registry } from "prom-client";
import { redisReachable } from "@hookbus/core/store";
import { metricsAccessAllowed } from "@hookbus/core/runtime";

/** The worker's /metrics (behind a bearer token when one is set), /healthz and /readyz: a bare HTTP server, as it serves nothing else. */
export async function startOpsServer(
  port: number,
  host: string,
  registry: Registry,
  redis: RedisConnection,
  metricsToken?: string,
): Promise<http.Server & { port: number }> {
  const server = http.createServer((request, response) => {
    const reply = (status: number, contentType: string, body: string) => {
      // As the ingest: no answer is to be read as another type than it says.
      response.writeHead(status, { "content-type": contentType, "x-content-type-options": "nosniff" });
      response.end(body);
    };
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET") return reply(405, "application/json", JSON.stringify({ error: "method not allowed" }));
    if (path === "/healthz") return reply(200, "application/json", JSON.stringify({ status: "ok" }));
    if (path === "/readyz") {
      void redisReachable(redis).then((ready) =>
        reply(ready ? 200 : 503, "application/json", JSON.stringify({ status: ready ? "ready" : "redis unreachable" })),
      );
      return;
    }
    if (path === "/metrics") {
      if (!metricsAccessAllowed(request.headers.authorization, metricsToken)) {
        return reply(401, "application/json", JSON.stringify({ error: "send Authorization: Bearer with the metrics token" }));
      }
      void registry.metrics().then((text) => reply(200, registry.contentType, text));
      return;
    }
    reply(404, "application/json", JSON.stringify({ error: "not found" }));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
