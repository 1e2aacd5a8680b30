import { Option, type Command } from "commander";
import type { CreateSubscriptionBody, UpdateSubscriptionBody } from "@hookbus/schemas";
import { commaList, headerEntry, optionParser, positiveInteger, retrySchedule } from "../arg-parsers.js";
import type { CommandContext } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { withoutUndefined } from "../without-undefined.js";
import { subscriptionsTable } from "../format.js";
import { jsonFlag, printJson, printLine, printNote } from "../io.js";
import { readSecret } from "../secret-input.js";
import { addListingOptions, fetchListing, printListing, type ListingOptions } from "../listing.js";

/** `subscriptions create` flags as commander parses them. */
export interface CreateSubscriptionOptions {
  url: string;
  eventTypes: string[];
  mode?: "async" | "sync";
  environment?: "live" | "test";
  timeoutMs?: number;
  retrySchedule?: (string | number)[];
  format?: "envelope" | "native";
  legacyParameters?: boolean;
  filterSurveyNames?: string[];
  filterScheduleNames?: string[];
  filterFormIds?: string[];
  username?: string;
  password?: string;
  header?: Record<string, string>;
  description?: string;
  ordering?: "none" | "key";
}

/** The POST /v1/subscriptions body: only what was given, so the server's defaults apply. */
export function subscriptionBodyFrom(options: CreateSubscriptionOptions): CreateSubscriptionBody {
  const filter = withoutUndefined({
    surveyNames: options.filterSurveyNames,
    scheduleNames: options.filterScheduleNames,
    formIds: options.filterFormIds,
  });
  // The API checks every value (event types included) and answers with what is wrong.
  return withoutUndefined({
    url: options.url,
    eventTypes: options.eventTypes,
    mode: options.mode,
    environment: options.environment,
    timeoutMs: options.timeoutMs,
    retrySchedule: options.retrySchedule,
    format: options.format,
    legacyParameters: options.legacyParameters,
    filter: Object.keys(filter).length ? filter : undefined,
    auth: options.username === undefined ? undefined : { type: "basic", username: options.username, password: options.password ?? "" },
    headers: options.header,
    description: options.description,
    ordering: options.ordering,
  }) as CreateSubscriptionBody;
}

/** The settings `create` and `update` both take, with the same flags. */
function addSettingOptions(command: Command): Command {
  const commaListParser = optionParser(commaList);
  return command
    .addOption(new Option("--mode <mode>", "sync answers the publisher with the outcome").choices(["async", "sync"]))
    .addOption(new Option("--environment <env>", "test subscriptions get only samples").choices(["live", "test"]))
    .option("--timeout-ms <ms>", "per attempt", optionParser(positiveInteger))
    .option("--retry-schedule <delays>", 'delays before each retry, e.g. "5s,5m,30m"; "" for none', optionParser(retrySchedule))
    .addOption(new Option("--format <format>", "envelope, or the platform's native body").choices(["envelope", "native"]))
    .option("--legacy-parameters", "native MyDataHelps bodies also carry PatientIdentifier/PatientID")
    .option("--filter-survey-names <names>", "only these surveys (comma-separated)", commaListParser)
    .option("--filter-schedule-names <names>", "only these schedules (comma-separated)", commaListParser)
    .option("--filter-form-ids <ids>", "only these TrialKit forms (comma-separated)", commaListParser)
    .option("--description <text>", "a note for people")
    .addOption(
      new Option("--ordering <ordering>", "key: the events of one orderingKey are delivered one at a time, in publish order").choices([
        "none",
        "key",
      ]),
    );
}

export function registerSubscriptions(program: Command, context: CommandContext): void {
  const subscriptions = program.command("subscriptions").description("manage webhook subscriptions");

  const list = subscriptions
    .command("list")
    .description("every subscription")
    .option(...jsonFlag);
  addListingOptions(list, 100).action(async (options: ListingOptions) => {
    const client = context.client();
    const page = await fetchListing(
      (limit) => client.subscriptions.list({ limit }),
      () => client.subscriptions.iterate(),
      options,
    );
    printListing(context.io, page, options, subscriptionsTable);
  });

  const commaListParser = optionParser(commaList);
  addSettingOptions(
    subscriptions
      .command("create")
      .description("subscribe a URL to event types; prints the new id and its signing secret")
      .requiredOption("--url <url>", "where to POST the webhooks (http or https)")
      .requiredOption("--event-types <types>", "comma-separated, e.g. survey.submitted,record.created", commaListParser),
  )
    .option("--username <name>", "Basic auth user name sent to the receiver")
    .option("--password-file <path>", "read the Basic auth password (with --username) from a file")
    .option("--password-stdin", "read the Basic auth password (with --username) from standard input")
    .option("--password <password>", "Basic auth password (visible in ps: prefer the two above)")
    .option("--header <header>", 'a header for the receiver, "Name: value"; repeatable', optionParser(headerEntry))
    .option(...jsonFlag)
    .action(
      async (options: CreateSubscriptionOptions & { passwordFile?: string; passwordStdin?: boolean; json?: boolean }, command: Command) => {
        if (options.passwordStdin && command.optsWithGlobals().apiKeyStdin) {
          command.error("error: --password-stdin and --api-key-stdin cannot both read standard input", { exitCode: ExitCode.usage });
        }
        const password = readSecret(
          context.io,
          { stdin: options.passwordStdin, file: options.passwordFile, value: options.password, valueOnCommandLine: true },
          { flag: "--password", safer: "--password-file or --password-stdin" },
        );
        if (password !== undefined && options.username === undefined) {
          command.error("error: a password needs --username", { exitCode: ExitCode.usage });
        }
        const created = await context.client().subscriptions.create(subscriptionBodyFrom({ ...options, password }));
        if (options.json) return printJson(context.io, created);
        printLine(context.io, `created ${created.id}`);
        printLine(context.io, `secret  ${created.secret}`);
        printNote(context.io, "keep the secret now: it is not shown again");
      },
    );

  addSettingOptions(
    subscriptions
      .command("update")
      .description("change a subscription's settings: only the flags given (credentials: through the API or the console)")
      .argument("<id>", "subscription id (sub_...)")
      .option("--url <url>", "where to POST the webhooks (http or https)")
      .option("--event-types <types>", "comma-separated, e.g. survey.submitted,record.created", commaListParser),
  )
    .option(...jsonFlag)
    .action(async (id: string, options: Partial<CreateSubscriptionOptions> & { json?: boolean }, command: Command) => {
      const patch = subscriptionBodyFrom(options as CreateSubscriptionOptions) as UpdateSubscriptionBody;
      if (Object.keys(patch).length === 0) command.error("error: name at least one setting to change", { exitCode: ExitCode.usage });
      const client = context.client();
      // The API replaces the filter as a whole: one list given here joins the lists it has.
      if (patch.filter) patch.filter = { ...(await client.subscriptions.get(id)).filter, ...patch.filter };
      const updated = await client.subscriptions.update(id, patch);
      if (options.json) return printJson(context.io, updated);
      printLine(context.io, `updated ${updated.id}`);
    });

  subscriptions
    .command("delete")
    .description("delete a subscription")
    .argument("<id>", "subscription id (sub_...)")
    .option(...jsonFlag)
    .action(async (id: string, options: { json?: boolean }) => {
      await context.client().subscriptions.delete(id);
      if (options.json) return printJson(context.io, { id, deleted: true });
      printLine(context.io, `deleted ${id}`);
    });
}
