import { Option, type Command } from "commander";
import { deliveryStatuses, type DeliveryFilter, type DeliveryStatus, type EventType } from "@hookbus/schemas";
import { optionParser } from "./arg-parsers.js";
import { toIsoInstant } from "./relative-time.js";
import { withoutUndefined } from "./without-undefined.js";

/** The delivery filter options as commander parses them (--since/--until already ISO 8601). */
export interface DeliveryFilterOptions {
  status?: DeliveryStatus;
  subscription?: string;
  eventType?: string;
  since?: string;
  until?: string;
}

// Converted as parsed, so a bad value is a usage error naming the option.
const timeParser = optionParser((value: string) => toIsoInstant(value));

export function addDeliveryFilterOptions(command: Command): Command {
  return command
    .addOption(new Option("--status <status>", "only deliveries in this status").choices(deliveryStatuses))
    .option("--subscription <id>", "only deliveries to this subscription")
    .option("--event-type <type>", "only deliveries of this event type, e.g. survey.submitted")
    .addOption(new Option("--since <time>", "created at or after: 30m, 2h, 1d or ISO 8601").argParser(timeParser))
    .addOption(new Option("--until <time>", "created before: 30m, 2h, 1d or ISO 8601").argParser(timeParser));
}

export function deliveryFilterFrom(options: DeliveryFilterOptions): DeliveryFilter {
  return withoutUndefined({
    status: options.status,
    subscriptionId: options.subscription,
    // The API checks the type and says which ones it knows.
    eventType: options.eventType as EventType | undefined,
    since: options.since,
    until: options.until,
  });
}
