import type { RequestHandler } from "express";
import { OverloadedError } from "@hookbus/core/policy";

/**
 * Each API key's share of an ingest's publishes in flight: while another key has publishes
 * waiting here, a key holds at most half of the sync waits (HOOKBUS_MAX_SYNC_WAITS), so that one
 * noisy publisher cannot take every wait and starve another's sync publishes; alone, a key may
 * use them all. Past its share a key gets 503 with Retry-After, as past the cap. A key that
 * filled the cap before another came is held to its share from the moment that other key's
 * first publish is taken: its waits answer within their timeouts, and the cap's room goes to
 * whoever asks next.
 *
 * Every single-event publish is counted from its arrival to its answer, since only the publish
 * knows whether a sync subscription matches; one that waits for none answers within
 * milliseconds, so a key's count is in effect the sync publishes it has waiting.
 */
export function publishShare(maxSyncWaits: number): RequestHandler {
  const perKey = Math.ceil(maxSyncWaits / 2);
  // A single wait cannot be shared: the cap's own 503 answers.
  if (perKey === maxSyncWaits) return (_request, _response, next) => next();
  const held = new Map<string, number>();
  return (request, response, next) => {
    const key = request.apiKeyId!;
    const holding = held.get(key) ?? 0;
    const othersWaiting = held.size > (holding > 0 ? 1 : 0);
    if (holding >= perKey && othersWaiting) {
      return next(
        new OverloadedError(
          `this API key already has ${holding} publishes waiting on this ingest, past its share of ${perKey} while other keys wait; try again shortly`,
          1,
        ),
      );
    }
    held.set(key, holding + 1);
    response.once("close", () => {
      const left = held.get(key)! - 1;
      if (left === 0) held.delete(key);
      else held.set(key, left);
    });
    next();
  };
}
