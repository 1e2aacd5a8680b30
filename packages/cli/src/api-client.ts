import type { ErrorBody } from "./api-types.js";

/** The API answered with an error status; carries the API's own `error` and `issues`. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly issues: NonNullable<ErrorBody["issues"]> = [],
  ) {
    super(message);
  }
}

/** No answer at all: refused, unresolvable, reset, or no answer within the timeout. */
export class ApiUnreachableError extends Error {
  override name = "ApiUnreachableError";
  constructor(baseUrl: string, cause: unknown) {
    super(`cannot reach the Hookbus API at ${baseUrl}: ${describeNetworkFailure(cause)}`, { cause });
  }
}

export type Query = Record<string, string | number | undefined>;

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Per request; an admin call that takes longer than this is as good as unreachable. */
  timeoutMs?: number;
}

/** A small fetch wrapper for the admin API: bearer key, JSON both ways, errors as types. */
export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>("GET", path + queryString(query));
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  delete(path: string): Promise<void> {
    return this.request<void>("DELETE", path);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new ApiUnreachableError(this.baseUrl, error);
    }
    const parsed = parseJson(text);
    if (!response.ok) throw toApiError(response.status, parsed, text);
    if (text !== "" && parsed === undefined) throw new ApiError(response.status, `the answer to ${method} ${path} is not JSON: ${text.slice(0, 200)}`);
    return parsed as T;
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

function toApiError(status: number, parsed: unknown, text: string): ApiError {
  const body = parsed as Partial<ErrorBody> | undefined;
  if (typeof body?.error === "string") return new ApiError(status, body.error, Array.isArray(body.issues) ? body.issues : []);
  // Not the API's error shape: probably a proxy or another server on that port.
  return new ApiError(status, `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`);
}

/** fetch hides the useful part (ECONNREFUSED, ENOTFOUND, ...) in `cause`. */
function describeNetworkFailure(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") return "no answer in time";
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}
