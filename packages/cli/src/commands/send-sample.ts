import type { Command } from "commander";
import type { EventType, SendSampleResult } from "@hookbus/schemas";
import type { CommandContext } from "../context.js";
import { excerpt, wholeMs } from "../format.js";
import { jsonFlag, printJson, printLine } from "../io.js";

/** One line a person can read: outcome, status code (or why there was none), time, and the start of the body. */
export function describeOutcome(sample: SendSampleResult): string {
  const status =
    sample.statusCode !== undefined ? ` (HTTP ${sample.statusCode})` : sample.message ? ` (${excerpt(sample.message, 200)})` : "";
  const body = sample.body ? `: ${excerpt(sample.body, 200)}` : "";
  return `${sample.type} sample ${sample.outcome}${status} in ${wholeMs(sample.durationMs)} ms${body}`;
}

export function registerSendSample(program: Command, context: CommandContext): void {
  program
    .command("send-sample")
    .description("send a sample event with dummy values to one subscription and wait for the outcome")
    .argument("<subscriptionId>", "subscription id (sub_...)")
    .option("--type <type>", "event type of the sample; by default the subscription's first")
    .option(...jsonFlag)
    .addHelpText("after", "\nThe exit code is 0 whenever the API answered, even if the receiver failed: check `outcome` in --json.")
    .action(async (subscriptionId: string, options: { type?: string; json?: boolean }) => {
      // The API checks the type and says which ones it knows.
      const body = options.type === undefined ? {} : { type: options.type as EventType };
      const sample = await context.client().subscriptions.sendSample(subscriptionId, body);
      if (options.json) return printJson(context.io, sample);
      printLine(context.io, describeOutcome(sample));
      printLine(context.io, `delivery ${sample.deliveryId}, event ${sample.eventId}`);
    });
}
