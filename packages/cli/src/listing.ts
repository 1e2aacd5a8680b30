import { Option, type Command } from "commander";
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
    .addOption(
      new Option("--limit <n>", `how many to show, at most ${MAX_PAGE}`).argParser(optionParser(positiveInteger)).default(defaultLimit),
    )
    .addOption(new Option("--all", "every match, page after page").conflicts("limit"));
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * One page of `limit`, or with --all every item, read through the client's paging and
 * returned as one page whose nextCursor is null.
 */
export async function fetchListing<T>(
  onePage: (limit: number) => Promise<Page<T>>,
  everything: () => AsyncIterable<T>,
  options: ListingOptions,
): Promise<Page<T>> {
  if (!options.all) return onePage(options.limit ?? MAX_PAGE);
  const items: T[] = [];
  for await (const item of everything()) items.push(item);
  return { items, nextCursor: null };
}

/** The page as JSON, or as a table with a note when more pages are left. */
export function printListing<T>(io: CliIo, page: Page<T>, options: ListingOptions, render: (items: T[]) => string): void {
  if (options.json) return printJson(io, page);
  printLine(io, render(page.items));
  if (page.nextCursor) printNote(io, `more match: raise --limit or pass --all`);
}
