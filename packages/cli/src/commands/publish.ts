import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { MAX_BATCH_EVENTS, type BatchPublishResult, type PublishBody } from "@hookbus/schemas";
import type { CommandContext } from "../context.js";
import { PublishRefusalsError } from "../exit-codes.js";
import { jsonFlag, printJson, printLine } from "../io.js";

/** Events from a file: a JSON list, `{"events": [...]}`, one event, or one JSON event per line. */
export function parseEventsFile(text: string): unknown[] {
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as unknown);
  }
  if (Array.isArray(whole)) return whole;
  const { events } = whole as { events?: unknown };
  return Array.isArray(events) ? events : [whole];
}

/** An event read from a file, given the ordering key when it names none (what is not an object is sent as read, for the API to refuse). */
export function withOrderingKey(event: unknown, orderingKey: string): unknown {
  if (typeof event !== "object" || event === null || Array.isArray(event) || "orderingKey" in event) return event;
  return { ...event, orderingKey };
}

export function registerPublish(program: Command, context: CommandContext): void {
  program
    .command("publish")
    .description(`publish events from a file through the batch endpoint, ${MAX_BATCH_EVENTS} a request`)
    .argument("<file>", 'a JSON list of events, {"events": [...]}, or one event per line; - for standard input')
    .option(
      "--ordering-key <key>",
      "the ordering key of every event that names none: ordered subscriptions get them one at a time, in file order",
    )
    .option(...jsonFlag)
    .addHelpText(
      "after",
      "\nEach event is {type, data, id?, occurredAt?, orderingKey?}; give `id` so that publishing the file again sends nothing twice.\nExit code 5 when some events were refused (each is listed with why).",
    )
    .action(async (file: string, options: { json?: boolean; orderingKey?: string }) => {
      const read = parseEventsFile(file === "-" ? context.io.readStdin() : readFileSync(file, "utf8"));
      const events = options.orderingKey === undefined ? read : read.map((event) => withOrderingKey(event, options.orderingKey!));
      const client = context.client();
      const items: BatchPublishResult["items"] = [];
      for (let start = 0; start < events.length; start += MAX_BATCH_EVENTS) {
        // Sent as read: the API checks each event and answers, item by item, what is wrong.
        const answer = await client.publishBatch(events.slice(start, start + MAX_BATCH_EVENTS) as PublishBody[]);
        items.push(...answer.items);
      }
      const refused = items.flatMap((item, index) => ("error" in item ? [{ index, ...item }] : []));
      if (options.json) printJson(context.io, { items });
      else {
        const duplicates = items.filter((item) => "duplicate" in item).length;
        printLine(
          context.io,
          `${items.length} events: ${items.length - refused.length - duplicates} published, ${duplicates} already published under their id, ${refused.length} refused`,
        );
        for (const { index, error, issues } of refused) {
          printLine(context.io, `  #${index}: ${error}${issues?.length ? `: ${issues.map((i) => JSON.stringify(i)).join("; ")}` : ""}`);
        }
      }
      if (refused.length > 0) throw new PublishRefusalsError(refused.length, items.length);
    });
}
