import { activeSecrets, signatureHeader, type Delivery, type EventRecord, type Subscription } from "@hookbus/core/policy";
import type { AttemptRequest } from "./http-client.js";
import { renderBody } from "./render-body.js";

const USER_AGENT = "Hookbus/0.1 (+webhooks)";

/**
 * The request a receiver gets for one attempt: the body in the subscription's format, the
 * Standard Webhooks headers (webhook-id is the delivery id, the same for every attempt; every
 * active secret signs during a rotation), Basic auth and the subscription's own headers.
 */
export function signedRequest(
  delivery: Pick<Delivery, "id">,
  subscription: Subscription,
  event: EventRecord,
  now = Date.now(),
): AttemptRequest {
  const body = renderBody(event, subscription);
  const timestamp = Math.floor(now / 1000);
  const headers: Record<string, string> = {
    ...subscription.headers,
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "webhook-id": delivery.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatureHeader(activeSecrets(subscription.secrets, now), delivery.id, timestamp, body),
  };
  if (subscription.auth) {
    // As TrialKit builds it: base64 of "email:password".
    const credentials = Buffer.from(`${subscription.auth.username}:${subscription.auth.password}`).toString("base64");
    headers.authorization = `Basic ${credentials}`;
  }
  return { url: subscription.url, headers, body, timeoutMs: subscription.timeoutMs };
}
