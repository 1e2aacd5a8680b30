import type { Command } from "commander";
import type { CommandContext } from "../context.js";
import { addDeliveryFilterOptions, deliveryFilterFrom, type DeliveryFilterOptions } from "../filters.js";
import { attemptsTable, deliveriesTable, deliveryDetails } from "../format.js";
import { jsonFlag, printJson, printLine } from "../io.js";
import { addListingOptions, fetchListing, printListing, type ListingOptions } from "../listing.js";

export function registerDeliveries(program: Command, context: CommandContext): void {
  const deliveries = program.command("deliveries").description("list and inspect deliveries");

  const list = deliveries
    .command("list")
    .description("deliveries, newest first, filtered")
    .option(...jsonFlag);
  addDeliveryFilterOptions(list);
  addListingOptions(list, 50).action(async (options: DeliveryFilterOptions & ListingOptions) => {
    const client = context.client();
    const filter = deliveryFilterFrom(options);
    const page = await fetchListing(
      (limit) => client.deliveries.list({ ...filter, limit }),
      () => client.deliveries.iterate(filter),
      options,
    );
    printListing(context.io, page, options, deliveriesTable);
  });

  deliveries
    .command("show")
    .description("one delivery and every attempt made for it")
    .argument("<id>", "delivery id (dlv_...)")
    .option(...jsonFlag)
    .action(async (id: string, options: { json?: boolean }) => {
      const delivery = await context.client().deliveries.get(id);
      if (options.json) return printJson(context.io, delivery);
      printLine(context.io, deliveryDetails(delivery));
      printLine(context.io, delivery.attempts.length ? attemptsTable(delivery.attempts) : "no attempts yet");
    });
}
