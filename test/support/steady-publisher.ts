import { surveySubmitted } from "../fixtures/events.js";
import type { TestHookbus } from "./harness.js";

/**
 * Publishes numbered events the way a careful publisher does: each under an id of its own,
 * and a refused publish (503) again with the same id until it is answered 202. Keeps going
 * until stopped, and knows which events Hookbus acknowledged.
 */
export class SteadyPublisher {
  /** surveyName of every event answered 202. */
  readonly acknowledged: string[] = [];
  refusals = 0;
  private stopping = false;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly hookbus: TestHookbus,
    concurrency = 2,
    private readonly giveUpAfterMs = 30_000,
  ) {
    let next = 0;
    this.loops = Array.from({ length: concurrency }, async () => {
      while (!this.stopping) await this.publishUntilAcknowledged(`n-${next++}`);
    });
  }

  /** Stops, after each loop's publish in hand is acknowledged. */
  async stop(): Promise<string[]> {
    this.stopping = true;
    await Promise.all(this.loops);
    return this.acknowledged;
  }

  private async publishUntilAcknowledged(name: string): Promise<void> {
    const giveUpAt = Date.now() + this.giveUpAfterMs;
    for (;;) {
      const answer = await this.hookbus.publish({ ...surveySubmitted(name), id: name }).catch(() => ({ status: 0 }));
      if (answer.status === 202) {
        this.acknowledged.push(name);
        return;
      }
      if (answer.status !== 503 && answer.status !== 0) throw new Error(`publish ${name} answered ${answer.status}`);
      if (Date.now() > giveUpAt) throw new Error(`publish ${name} was refused for ${this.giveUpAfterMs} ms`);
      this.refusals++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The surveyName of each webhook a receiver got. */
export function deliveredNames(bodies: string[]): Set<string> {
  return new Set(bodies.map((body) => (JSON.parse(body) as { data: { surveyName: string } }).data.surveyName));
}
