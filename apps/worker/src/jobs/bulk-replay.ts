import { replayRefOf } from "@hookbus/core/queue";
import { REPLAY_BATCH, type ClaimedDelivery } from "@hookbus/core/flows";
import { parseReplayClaimNote } from "@hookbus/core/store";
import type { HookbusContext } from "@hookbus/core/runtime";

/**
 * The bulk-replay job: walks the deliveries a replay's filter matches, a batch at a time
 * (100,000 dead letters never sit in memory at once), claims each one still in the status the
 * replay asks for, and enqueues it. Deliveries of a disabled subscription are left where they
 * are (skipped). Each batch's claims are counted as its last id is kept as the replay's cursor,
 * so a job that runs again (stalled, or its worker restarted) resumes after it, and counts the
 * claims an earlier run of the batch made (the deliveries name the replay) without enqueueing
 * them twice.
 */
export async function runBulkReplay(context: HookbusContext, replayId: string): Promise<void> {
  const { replays, deliveries, subscriptions } = context;
  const replay = await replays.progress(replayId);
  if (replay.status === "done") return;
  // A rate cap is kept when each attempt is made (EndpointGate), where the receivers see it.
  const ref = { id: replayId, ratePerSecond: replay.ratePerSecond };
  for await (const { items, last } of deliveries.scan(replay.filter, REPLAY_BATCH, await replays.cursor(replayId))) {
    const disabled = new Set(
      (await subscriptions.getMany([...new Set(items.map((d) => d.subscriptionId))])).filter((s) => !s.enabled).map((s) => s.id),
    );
    const claimed: ClaimedDelivery[] = [];
    let claims = 0;
    for (const delivery of items) {
      if (disabled.has(delivery.subscriptionId)) continue;
      const replayNumber = await deliveries.claimForReplay(delivery, ref);
      if (replayNumber !== 0) claims++;
      if (replayNumber > 0) claimed.push({ delivery, replayNumber });
    }
    await replays.enqueue(claimed, ref);
    await replays.closePage(replayId, claims, last);
  }
  await replays.endWalk(replayId);
}

/**
 * Enqueues the claims that a replayer died before enqueueing (noted over `olderThanMs` ago,
 * far longer than a live replayer takes). Should the replayer have died just after
 * enqueueing, the receiver may get the delivery twice, with the same webhook-id: at least
 * once, never lost.
 */
export async function recoverUnenqueuedClaims(context: HookbusContext, olderThanMs: number, now = Date.now()): Promise<number> {
  let recovered = 0;
  for (const partition of context.keys.partitions()) recovered += await recoverInPartition(context, partition, olderThanMs, now);
  return recovered;
}

async function recoverInPartition(context: HookbusContext, partition: number, olderThanMs: number, now: number): Promise<number> {
  const notesKey = context.keys.replayClaimsNotEnqueued(partition);
  const notes = await context.redis.zrangebyscore(notesKey, "-inf", now - olderThanMs, "LIMIT", 0, REPLAY_BATCH);
  let recovered = 0;
  for (const { deliveryId, replayId } of notes.map(parseReplayClaimNote)) {
    const [delivery] = await context.deliveries.getMany([deliveryId]);
    if (!delivery) continue;
    await context.replays.enqueue([{ delivery, replayNumber: delivery.replays }], replayRefOf(delivery));
    recovered++;
  }
  // Notes of deliveries that have since expired go too.
  if (notes.length > 0) await context.redis.zrem(notesKey, ...notes);
  return recovered;
}
