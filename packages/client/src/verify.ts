import { Webhook } from "standardwebhooks";

/** A request's headers as Node (IncomingHttpHeaders), fetch (Headers) or a plain object gives them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Checks a delivery's Standard Webhooks signature with the subscription's secret (`whsec_…`)
 * and returns its parsed body. Throws when the signature does not match, a header is
 * missing, or the timestamp is more than five minutes off. Pass the body exactly as it came:
 * re-serialised JSON does not verify.
 */
export function verifyWebhook<T = unknown>(secret: string, body: string, headers: WebhookHeaders): T {
  return new Webhook(secret).verify(body, {
    "webhook-id": header(headers, "webhook-id"),
    "webhook-timestamp": header(headers, "webhook-timestamp"),
    "webhook-signature": header(headers, "webhook-signature"),
  }) as T;
}

function header(headers: WebhookHeaders, name: string): string {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? "";
}
