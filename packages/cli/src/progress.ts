import { Presets, SingleBar } from "cli-progress";
import type { ReplayView as Replay } from "@hookbus/schemas";
import { printLine, type CliIo } from "./io.js";

/** Shows a bulk replay moving towards its total. */
export interface ReplayProgress {
  update(replay: Replay): void;
  stop(): void;
}

/**
 * How many deliveries of the replay are settled: `done` counts those delivered, `failed`
 * those that failed again, and `skipped` those another replay took.
 */
export function finishedCount(replay: Replay): number {
  return Math.min(replay.total, replay.done + replay.failed + replay.skipped);
}

/** A live bar on a terminal; elsewhere (a pipe, a CI log) one line per change. */
export function replayProgress(io: CliIo, replayId: string, total: number): ReplayProgress {
  return io.stdout.isTTY ? new BarProgress(io, replayId, total) : new LineProgress(io, replayId);
}

class BarProgress implements ReplayProgress {
  private readonly bar: SingleBar;

  constructor(io: CliIo, replayId: string, total: number) {
    this.bar = new SingleBar(
      {
        stream: io.stdout,
        format: `${replayId} {bar} {value}/{total} finished | {failed} failed | {duration_formatted}`,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    this.bar.start(total, 0, { failed: 0 });
  }

  update(replay: Replay): void {
    this.bar.setTotal(replay.total);
    this.bar.update(finishedCount(replay), { failed: replay.failed });
  }

  stop(): void {
    this.bar.stop();
  }
}

class LineProgress implements ReplayProgress {
  private lastLine = "";

  constructor(
    private readonly io: CliIo,
    private readonly replayId: string,
  ) {}

  update(replay: Replay): void {
    const line = `${this.replayId}: ${finishedCount(replay)}/${replay.total} finished, ${replay.failed} failed`;
    if (line === this.lastLine) return;
    this.lastLine = line;
    printLine(this.io, line);
  }

  stop(): void {}
}
