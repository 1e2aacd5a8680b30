import { HookbusApiError, HookbusUnreachableError, toApiError } from "./errors.js";

export type Query = Record<string, string | number | undefined>;

export interface HookbusClientOptions {
  /** Where the ingest answers, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** An admin key, or a publisher key for publishing only. */
  apiKey: string;
  /** Per request, ms (default 30 s); a sync publish waits for its receivers within it. */
  timeoutMs?: number;
  /** Another fetch (a test's, a proxy-aware one); the global one by default. */
  fetch?: typeof fetch;
}

/** JSON over HTTP with the bearer key; errors as types. One request per call, no retries. */
export class Transport {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: HookbusClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const url = this.baseUrl + path + queryString(options.query ?? {});
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new HookbusUnreachableError(this.baseUrl, error);
    }
    const parsed = parseJson(text);
    if (!response.ok) throw toApiError(response.status, parsed, text);
    if (text !== "" && parsed === undefined)
      throw new HookbusApiError(response.status, `the answer to ${method} ${path} is not JSON: ${text.slice(0, 200)}`);
    return parsed as T;
  }

  /**
   * The lines of a streamed answer (NDJSON), yielded as they arrive. The timeout applies to the
   * answer's start only: an export may rightly take longer than any one request.
   */
  async *lines(path: string, query: Query = {}): AsyncIterable<string> {
    let response: Response;
    const startTimeout = new AbortController();
    const timer = setTimeout(() => startTimeout.abort(new DOMException("no answer in time", "TimeoutError")), this.timeoutMs);
    try {
      response = await this.fetch(this.baseUrl + path + queryString(query), {
        headers: { authorization: `Bearer ${this.apiKey}`, accept: "application/x-ndjson" },
        signal: startTimeout.signal,
      });
    } catch (error) {
      throw new HookbusUnreachableError(this.baseUrl, error);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok || !response.body) {
      const text = await response.text();
      throw toApiError(response.status, parseJson(text), text);
    }
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      const complete = pending.split("\n");
      pending = complete.pop()!;
      yield* complete.filter(Boolean);
    }
    if (pending) yield pending;
  }
}

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const encoded = params.toString();
  return encoded ? `?${encoded}` : "";
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
