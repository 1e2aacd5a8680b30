import type { RedisConnection } from "./redis.js";
import { DEFAULT_PROJECT_ID } from "@hookbus/schemas";
import type { Delivery, EventRecord } from "../policy/domain.js";
import { partitionOfId } from "../policy/ids.js";
import { execPipeline } from "./delivery-queries.js";
import type { Keys } from "./keys.js";
import { perPartition } from "./partitioned.js";
import { defineScript, readLua } from "./redis.js";

const LANE_TURN = readLua(import.meta.url, "lane-turn.lua");
const ORDERING_ROUTED = readLua(import.meta.url, "ordering-routed.lua");

/** A delivery in a lane, as lanes and their wake-ups name it: enough for its deliver job. */
export interface LaneMember {
  deliveryId: string;
  eventId: string;
  subscriptionId: string;
}

/** Whether a delivery in a lane may try now: its turn, behind an earlier delivery of its lane, or behind an earlier event of its key not yet routed. */
export type LaneTurn = "go" | "behind" | "blocked";

const TURNS: Record<number, LaneTurn> = { 1: "go", 0: "behind", [-1]: "blocked" };

/** A delivery that may be in a lane: the ones whose subscription orders by key carry their event's ordering key. */
export type LaneDelivery = Pick<Delivery, "id" | "eventId" | "subscriptionId" | "orderingKey" | "projectId">;

/**
 * Delivery in publish order per ordering key. Each ordered subscription has a lane per key:
 * its unfinished deliveries of that key, by their events' numbers (fixed when each event was
 * stored). Only a lane's first may be attempted, and only once no earlier event of its key is
 * still unrouted. A lane decides which delivery of a key may try; the endpoint gate, asked
 * after, decides when the endpoint has a slot for it. A finished delivery leaves its lane in
 * the script that records it (DeliveryLog), which names the next for its caller to wake.
 */
export class Lanes {
  private readonly laneTurn;
  private readonly orderingRouted;

  /**
   * @param waitMs how long a delivery waiting in its lane sleeps before it looks again, should
   *   no wake-up come (one lost in a crash): its watch is moved as far, out of the reconciler's way
   */
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: Keys,
    private readonly retentionMs: number,
    readonly waitMs: number,
  ) {
    this.laneTurn = defineScript<number>(redis, "hookbusLaneTurn", 4, LANE_TURN);
    this.orderingRouted = defineScript<string[]>(redis, "hookbusOrderingRouted", 2, ORDERING_ROUTED);
  }

  /**
   * Whether the delivery may be attempted now (see lane-turn.lua). One that must wait is
   * watched again at `lookAgainAt`, when its job looks again unless woken before.
   */
  async turn(delivery: LaneDelivery & { orderingKey: string }, lookAgainAt = Date.now() + this.waitMs): Promise<LaneTurn> {
    const key = delivery.orderingKey;
    const projectId = delivery.projectId ?? DEFAULT_PROJECT_ID;
    // A lane is in the partition of its key's events, with their deliveries.
    const partition = partitionOfId(delivery.id);
    const turn = await this.laneTurn.run(
      [
        this.keys.lane(delivery.subscriptionId, key, partition),
        this.keys.orderingKey(projectId, key, "unrouted", partition),
        this.keys.orderingKey(projectId, key, "blocked", partition),
        this.keys.deliveriesToWatch(partition),
      ],
      [
        laneMember(delivery),
        this.keys.deliveryKeyPrefix(partition),
        this.keys.eventKeyPrefix(partition),
        lookAgainAt,
        this.retentionMs,
        delivery.subscriptionId,
      ],
    );
    return TURNS[turn]!;
  }

  /**
   * The first of the lane a delivery is in, the one whose turn it is (or, should it be a record
   * gone, the one that drops it at its next look).
   */
  async headOf(delivery: Pick<Delivery, "id" | "subscriptionId"> & { orderingKey: string }): Promise<LaneMember | undefined> {
    const { subscriptionId, orderingKey } = delivery;
    const [first] = await this.redis.zrange(this.keys.lane(subscriptionId, orderingKey, partitionOfId(delivery.id)), 0, 0);
    return first === undefined ? undefined : parseLaneMember(first, subscriptionId);
  }

  /**
   * Notes that these events' deliveries are in their lanes (call once routing made them): no
   * later event of their keys waits on them any more. Returns the deliveries that waited, to wake.
   */
  async routed(events: Pick<EventRecord, "id" | "projectId" | "orderingKey">[]): Promise<LaneMember[]> {
    const ordered = new Map(events.filter((event) => event.orderingKey !== undefined).map((event) => [event.id, event]));
    const blockedOfEach = await perPartition([...ordered.keys()], (ids, partition) => {
      const pipeline = this.redis.pipeline();
      for (const { id, projectId = DEFAULT_PROJECT_ID, orderingKey } of ids.map((id) => ordered.get(id)!))
        this.orderingRouted.queue(
          pipeline,
          [
            this.keys.orderingKey(projectId, orderingKey!, "unrouted", partition),
            this.keys.orderingKey(projectId, orderingKey!, "blocked", partition),
          ],
          [id],
        );
      return execPipeline<string[]>(pipeline);
    });
    return blockedOfEach.flatMap((blocked) => {
      return blocked.map((member) => {
        const [deliveryId, eventId, subscriptionId] = member.split(" ") as [string, string, string];
        return { deliveryId, eventId, subscriptionId };
      });
    });
  }
}

/** How a delivery is kept in its lane: its id and its event's, which its deliver job needs. */
export function laneMember(delivery: Pick<Delivery, "id" | "eventId">): string {
  return `${delivery.id} ${delivery.eventId}`;
}

/** The lane member a finished delivery's script named as next, as a member to wake. */
export function parseLaneMember(member: string, subscriptionId: string): LaneMember | undefined {
  if (member === "") return undefined;
  const [deliveryId, eventId] = member.split(" ") as [string, string];
  return { deliveryId, eventId, subscriptionId };
}
