import http from "node:http";
import https from "node:https";
import got, { type Got } from "got";
import { blockedRangeOfUrl, guardedLookup, type AllowedNetworks, type AttemptErrorKind } from "@hookbus/core";

/** Response bodies kept for the delivery log and sync answers; the rest is not read. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface AttemptRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export interface AttemptResult {
  ok: boolean;
  statusCode?: number;
  error?: AttemptErrorKind;
  message?: string;
  body?: string;
  /** The receiver's Retry-After header, as sent. */
  retryAfter?: string;
  durationMs: number;
}

/**
 * The one HTTP client that calls receivers: a single POST, no retries of its own (the retry
 * policy owns those), no redirects (a redirect could lead past the SSRF guard), keep-alive
 * connections, and the SSRF guard on every address dialled.
 */
export class WebhookHttpClient {
  private readonly client: Got;
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  constructor(
    private readonly allowedNetworks: AllowedNetworks,
    /** The resolver behind the guard; tests hand in their own. */
    resolve?: Parameters<typeof guardedLookup>[1],
  ) {
    this.client = got.extend({
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: "text",
      agent: this.agents,
      dnsLookup: guardedLookup(allowedNetworks, resolve) as never,
    });
  }

  async send(request: AttemptRequest): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    // Node dials an IP literal without a DNS lookup, so the lookup guard alone would miss it.
    const blocked = blockedRangeOfUrl(request.url, this.allowedNetworks);
    if (blocked) return { ok: false, error: "ssrf_blocked", message: `the URL's address is in ${blocked}, which is blocked`, durationMs: 0 };
    try {
      const pending = this.client.post(request.url, {
        headers: request.headers,
        body: request.body,
        timeout: { request: request.timeoutMs },
      });
      pending.on("downloadProgress", (progress) => {
        if (progress.transferred > MAX_RESPONSE_BYTES * 16) pending.cancel("response body too large");
      });
      const response = await pending;
      const statusCode = response.statusCode;
      const ok = statusCode >= 200 && statusCode < 300;
      return {
        ok,
        statusCode,
        error: ok ? undefined : "http",
        body: truncate(response.body, MAX_RESPONSE_BYTES),
        retryAfter: ok ? undefined : response.headers["retry-after"],
        durationMs: elapsed(),
      };
    } catch (error) {
      return { ok: false, ...classify(error), durationMs: elapsed() };
    }
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function classify(error: unknown): { error: AttemptErrorKind; message: string } {
  const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  const message = err.message ?? String(error);
  if (err.name === "TimeoutError" || code === "ETIMEDOUT") return { error: "timeout", message };
  if (code === "ESSRFBLOCKED") return { error: "ssrf_blocked", message };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NODATA") return { error: "dns", message };
  return { error: "connection", message };
}

export function truncate(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return Buffer.from(text).subarray(0, maxBytes).toString("utf8").replace(/\uFFFD$/, "");
}
