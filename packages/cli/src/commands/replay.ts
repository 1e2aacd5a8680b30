import type { Command } from "commander";
import type { BulkReplayBody } from "@hookbus/schemas";
import { optionParser, positiveInteger } from "../arg-parsers.js";
import type { CommandContext } from "../context.js";
import { ExitCode, ReplayFailuresError } from "../exit-codes.js";
import { addDeliveryFilterOptions, deliveryFilterFrom, type DeliveryFilterOptions } from "../filters.js";
import { withoutUndefined } from "../without-undefined.js";
import { jsonFlag, printJson, printLine } from "../io.js";
import { replayProgress } from "../progress.js";

/** How often a running bulk replay is asked how far it got. */
const POLL_INTERVAL_MS = 250;

export interface ReplayOptions extends DeliveryFilterOptions {
  dryRun?: boolean;
  rate?: number;
  json?: boolean;
}

export function bulkReplayBodyFrom(options: ReplayOptions): BulkReplayBody {
  // A status a replay may not take (pending, retrying) is the API's to refuse, with its reason.
  return withoutUndefined({
    ...deliveryFilterFrom(options),
    dryRun: options.dryRun ? (true as const) : undefined,
    ratePerSecond: options.rate,
  }) as BulkReplayBody;
}

export function registerReplay(program: Command, context: CommandContext): void {
  const replay = program
    .command("replay")
    .description("deliver again: one delivery by id, or every delivery matching filters")
    .argument("[id]", "delivery id (dlv_...); leave out for a bulk replay by filters");
  addDeliveryFilterOptions(replay)
    .option("--dry-run", "only count what a bulk replay would deliver")
    .option("--rate <perSecond>", "bulk replay speed, deliveries per second", optionParser(positiveInteger))
    .option(...jsonFlag)
    .addHelpText(
      "after",
      "\nExamples:\n  hookbus replay dlv_01J...\n  hookbus replay --status failed --since 2h --dry-run\n  hookbus replay --status failed --subscription sub_01J... --rate 50",
    )
    .action(async (id: string | undefined, options: ReplayOptions, command: Command) => {
      const bulk = bulkReplayBodyFrom(options);
      if (id !== undefined && Object.keys(bulk).length > 0) {
        command.error("error: give either a delivery id or filters, not both", { exitCode: ExitCode.usage });
      }
      if (id === undefined && Object.keys(deliveryFilterFrom(options)).length === 0) {
        command.error("error: name a delivery id, or at least one filter (e.g. --status failed) for a bulk replay", {
          exitCode: ExitCode.usage,
        });
      }
      if (id !== undefined) return replayOne(context, id, options);
      return replayMany(context, bulk, options);
    });
}

async function replayOne(context: CommandContext, id: string, options: ReplayOptions): Promise<void> {
  const accepted = await context.client().deliveries.replay(id);
  if (options.json) return printJson(context.io, accepted);
  printLine(context.io, `replaying ${accepted.id} (now ${accepted.status})`);
}

async function replayMany(context: CommandContext, body: BulkReplayBody, options: ReplayOptions): Promise<void> {
  const client = context.client();
  if (body.dryRun) {
    const answer = await client.replays.start(body);
    if (options.json) return printJson(context.io, answer);
    return printLine(context.io, `${"count" in answer ? answer.count : 0} deliveries match; nothing replayed (dry run)`);
  }
  let progress: ReturnType<typeof replayProgress> | undefined;
  const final = await client.replays
    .run(body, {
      pollMs: POLL_INTERVAL_MS,
      onProgress: (replay) => {
        if (!options.json) (progress ??= replayProgress(context.io, replay.id, replay.total)).update(replay);
      },
    })
    .finally(() => progress?.stop());
  if (options.json) printJson(context.io, final);
  else {
    const skipped = final.skipped > 0 ? `, ${final.skipped} skipped (taken by another replay)` : "";
    printLine(context.io, `${final.id} done: ${final.done} delivered, ${final.failed} failed${skipped}, of ${final.total}`);
  }
  if (final.failed > 0) throw new ReplayFailuresError(final.id, final.failed, final.total);
}
