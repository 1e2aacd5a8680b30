import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import { pinoHttp } from "pino-http";
import type { Logger } from "@hookbus/core/runtime";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * One JSON log line per request with a request id: the caller's X-Request-Id when it is
 * sane, else a new one, echoed back in the response. Only method, path and status are
 * logged: never headers (API keys) nor bodies (participant data).
 */
export function requestLog(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (request, response) => {
      const given = request.headers["x-request-id"];
      const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
      response.setHeader("x-request-id", id);
      return id;
    },
    customAttributeKeys: { reqId: "requestId" },
    // Binds the request id to request.log, so every line a handler logs carries it.
    quietReqLogger: true,
    serializers: {
      req: (request: { method: string; url: string }) => ({ method: request.method, path: request.url.split("?")[0] }),
      res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
    },
    customLogLevel: (_request, response, error) =>
      error || response.statusCode >= 500 ? "error" : response.statusCode >= 400 ? "warn" : "info",
    // Health checks and scrapes would drown everything else.
    autoLogging: { ignore: (request) => ["/healthz", "/readyz", "/metrics"].includes(request.url ?? "") },
  }) as unknown as RequestHandler;
}
