import { Agent } from "undici";
import { blockedRangeOfUrl, type AllowedNetworks, type AttemptErrorKind } from "@hookbus/core/policy";
import { guardedLookup } from "./guarded-lookup.js";

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
 * policy owns those), no redirects (a redirect could lead past the SSRF guard), a pool of
 * keep-alive connections per origin, and the SSRF guard on every address dialled.
 *
 * undici, not got: on this workload it sends several times as many requests per CPU second
 * (the README's Performance section has the figures).
 */
export class WebhookHttpClient {
  private readonly dispatcher: Agent;

  constructor(
    private readonly allowedNetworks: AllowedNetworks,
    /** The resolver behind the guard; tests hand in their own. */
    resolve?: Parameters<typeof guardedLookup>[1],
  ) {
    this.dispatcher = new Agent({
      // Every connection dials through the guard: a name that resolves to a blocked address is refused.
      connect: { lookup: guardedLookup(allowedNetworks, resolve) as never },
      // Longer than its own idle timeout, a receiver's keep-alive may end as a request starts: stay under the usual 5 s.
      keepAliveTimeout: 4000,
      maxResponseSize: MAX_RESPONSE_BYTES * 16,
    });
  }

  async send(request: AttemptRequest): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    // Node dials an IP literal without a DNS lookup, so the lookup guard alone would miss it.
    const blocked = blockedRangeOfUrl(request.url, this.allowedNetworks);
    if (blocked)
      return { ok: false, error: "ssrf_blocked", message: `the URL's address is in ${blocked}, which is blocked`, durationMs: 0 };
    try {
      const response = await this.dispatcher.request({
        ...requestTarget(request.url),
        method: "POST",
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(request.timeoutMs),
      });
      const body = await response.body.text();
      const statusCode = response.statusCode;
      const ok = statusCode >= 200 && statusCode < 300;
      const retryAfter = response.headers["retry-after"];
      return {
        ok,
        statusCode,
        error: ok ? undefined : "http",
        body: truncate(body, MAX_RESPONSE_BYTES),
        retryAfter: ok ? undefined : Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        durationMs: elapsed(),
      };
    } catch (error) {
      return { ok: false, ...classify(error), durationMs: elapsed() };
    }
  }

  close(): void {
    void this.dispatcher.close();
  }
}

/** undici takes the origin and the path apart. */
function requestTarget(url: string): { origin: string; path: string } {
  const parsed = new URL(url);
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
}

function classify(error: unknown): { error: AttemptErrorKind; message: string } {
  const err = error as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = err.code ?? err.cause?.code;
  const message = err.message ?? String(error);
  if (err.name === "TimeoutError" || code === "ETIMEDOUT" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT")
    return { error: "timeout", message };
  if (code === "ESSRFBLOCKED") return { error: "ssrf_blocked", message };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NODATA") return { error: "dns", message };
  return { error: "connection", message };
}

export function truncate(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return Buffer.from(text)
    .subarray(0, maxBytes)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
}
