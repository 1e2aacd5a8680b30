import { MASKED_HEADER_VALUE } from "@hookbus/schemas";

/** What the API and the audit trail show in place of a secret: a header value, a password. */
export const MASKED = MASKED_HEADER_VALUE;

/** Fields whose value is a credential wherever they appear: a signing secret, a password, an API key, a token. */
const SECRET_FIELD = /^(secrets?|password|key|apiKey|token|authorization)$/i;

/**
 * A copy of `values` with every credential masked: the fields above at any depth, and every
 * value of a `headers` map and of a URL's query string (tokens often travel there: webhook
 * URLs are sealed at rest for that reason). The audit trail applies it to what it
 * is given, so a caller that forgot to mask still writes no secret into a record kept for years.
 */
export function maskSecrets(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([field, value]) => {
      if (value === undefined || value === null) return [field, value];
      if (SECRET_FIELD.test(field)) return [field, MASKED];
      if (field === "url" && typeof value === "string") return [field, withQueryMasked(value)];
      if (field === "headers" && isRecord(value)) return [field, Object.fromEntries(Object.keys(value).map((name) => [name, MASKED]))];
      if (Array.isArray(value)) return [field, value.map((item) => (isRecord(item) ? maskSecrets(item) : item))];
      return [field, isRecord(value) ? maskSecrets(value) : value];
    }),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The URL with each query parameter's value masked, its names kept: `?token=********`. */
function withQueryMasked(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (!parsed.search) return url;
  for (const name of new Set(parsed.searchParams.keys())) parsed.searchParams.set(name, MASKED);
  return parsed.href;
}
