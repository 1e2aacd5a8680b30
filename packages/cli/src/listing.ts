import { Option, type Command } from "commander";
import type { ApiClient, Query } from "./api-client.js";
import type { Page } from "./api-types.js";
import { optionParser, positiveInteger } from "./arg-parsers.js";
import { printJson, printLine, printNote, type CliIo } from "./io.js";

/** The API's largest page. */
const MAX_PAGE = 500;

export interface ListingOptions {
  limit?: number;
  all?: boolean;
  json?: boolean;
}

/** --limit and --all, shared by every list command. */
export function addListingOptions(command: Command, defaultLimit: number): Command {
  return command
    .addOption(new Option("--limit <n>", `how many to show, at most ${MAX_PAGE}`).argParser(optionParser(positiveInteger)).default(defaultLimit))
    .addOption(new Option("--all", "every match, page after page").conflicts("limit"));
}

/** One page, or with --all every page, merged into one whose nextCursor is null. */
export async function fetchListing<T>(client: ApiClient, path: string, query: Query, options: ListingOptions): Promise<Page<T>> {
  if (!options.all) return client.get<Page<T>>(path, { ...query, limit: options.limit });
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.get<Page<T>>(path, { ...query, limit: MAX_PAGE, cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return { items, nextCursor: null };
}

/** The page as JSON, or as a table with a note when more pages are left. */
export function printListing<T>(io: CliIo, page: Page<T>, options: ListingOptions, render: (items: T[]) => string): void {
  if (options.json) return printJson(io, page);
  printLine(io, render(page.items));
  if (page.nextCursor) printNote(io, `more match: raise --limit or pass --all`);
}
