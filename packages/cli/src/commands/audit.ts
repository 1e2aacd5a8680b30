import { Option, type Command } from "commander";
import type { HookbusClient } from "@hookbus/client";
import { auditActions, type AuditAction, type AuditEntry, type AuditFilter } from "@hookbus/schemas";
import { optionParser, positiveInteger } from "../arg-parsers.js";
import type { CommandContext } from "../context.js";
import { auditLine, auditTable } from "../format.js";
import { jsonFlag, printJsonLine, printLine } from "../io.js";
import { addListingOptions, fetchListing, printListing, type ListingOptions } from "../listing.js";
import { toIsoInstant } from "../relative-time.js";
import { withoutUndefined } from "../without-undefined.js";

interface AuditOptions extends ListingOptions {
  actor?: string;
  action?: AuditAction;
  resource?: string;
  project?: string;
  since?: string;
  until?: string;
  follow?: boolean;
  interval: number;
}

const timeParser = optionParser((value: string) => toIsoInstant(value));

export function registerAudit(program: Command, context: CommandContext): void {
  const audit = program
    .command("audit")
    .description("the audit trail: who changed what and when, with old and new values, newest first")
    .option("--actor <key>", "only what this key did: its id (opk_..., key_..., system) or its name")
    .addOption(new Option("--action <action>", "only this action").choices(auditActions))
    .option("--resource <id>", "only entries about this resource (sub_..., dlv_..., prj_..., key_..., rpl_...)")
    .option("--project <id>", "only this project's entries (an operator key's choice)")
    .addOption(new Option("--since <time>", "at or after: 30m, 2h, 1d or ISO 8601").argParser(timeParser))
    .addOption(new Option("--until <time>", "before: 30m, 2h, 1d or ISO 8601").argParser(timeParser))
    .option("--follow", "after the listing, print new entries as they are recorded, oldest first, until interrupted")
    .addOption(
      new Option("--interval <ms>", "with --follow, how often to look for new entries")
        .argParser(optionParser(positiveInteger))
        .default(2000),
    )
    .option(...jsonFlag);
  addListingOptions(audit, 50).action(async (options: AuditOptions) => {
    const client = context.client();
    const filter: AuditFilter = withoutUndefined({
      actor: options.actor,
      action: options.action,
      resourceId: options.resource,
      projectId: options.project,
      since: options.since,
      until: options.until,
    });
    const page = await fetchListing(
      (limit) => client.audit.list({ ...filter, limit }),
      () => client.audit.iterate(filter),
      options,
    );
    if (!options.follow) return printListing(context.io, page, options, auditTable);
    // Followed, every entry is one line (one JSON document a line with --json), oldest first.
    const print = (entry: AuditEntry) => (options.json ? printJsonLine(context.io, entry) : printLine(context.io, auditLine(entry)));
    [...page.items].reverse().forEach(print);
    await follow(client, filter, page.items[0]?.seq ?? 0, options.interval, print);
  });
}

/** Polls for entries after `lastSeq` for ever (the command ends when interrupted). */
async function follow(client: HookbusClient, filter: AuditFilter, lastSeq: number, intervalMs: number, print: (entry: AuditEntry) => void) {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const newer: AuditEntry[] = [];
    for await (const entry of client.audit.iterate(filter)) {
      if (entry.seq <= lastSeq) break;
      newer.push(entry);
    }
    newer.reverse().forEach(print);
    lastSeq = newer.at(-1)?.seq ?? lastSeq;
  }
}
