import { Option, type Command } from "commander";
import type { CatchUpPolicy, CreateScheduleBody, ScheduleView } from "@hookbus/schemas";
import { optionParser, positiveInteger } from "../arg-parsers.js";
import type { CommandContext } from "../context.js";
import { scheduleDetails, schedulesTable } from "../format.js";
import { jsonFlag, printJson, printLine } from "../io.js";
import { addListingOptions, fetchListing, printListing, type ListingOptions } from "../listing.js";
import { withoutUndefined } from "../without-undefined.js";

interface TimingOptions {
  cron?: string;
  timezone?: string;
  every?: string;
  at?: string;
  startAt?: string;
  endAt?: string;
  limit?: number;
  catchUp?: CatchUpPolicy;
}

/** The options that time a schedule, shared by create and update; the API checks how they combine. */
function addTimingOptions(command: Command): Command {
  return command
    .option("--cron <pattern>", 'five cron fields, e.g. "0 9 * * *"')
    .option("--timezone <zone>", "the IANA time zone of --cron, e.g. America/New_York (default UTC)")
    .option("--every <duration>", 'a fire every this long, e.g. "30s", "1h", "1d"')
    .option("--at <time>", "one fire at this ISO time")
    .option("--start-at <time>", "no fire before this ISO time")
    .option("--end-at <time>", "no fire after this ISO time")
    .option("--limit <n>", "at most this many fires", optionParser(positiveInteger))
    .addOption(
      new Option("--catch-up <policy>", "fires missed while nothing ran: none, last (default) or all").choices(["none", "last", "all"]),
    );
}

/** The options as body fields; an `every` of digits alone is milliseconds, as the API reads it. */
function timingFields(options: TimingOptions) {
  return withoutUndefined({
    cron: options.cron,
    timezone: options.timezone,
    every: options.every !== undefined && /^\d+$/.test(options.every) ? Number(options.every) : options.every,
    at: options.at,
    startAt: options.startAt,
    endAt: options.endAt,
    limit: options.limit,
    catchUp: options.catchUp,
  });
}

export function registerSchedules(program: Command, context: CommandContext): void {
  const schedules = program.command("schedules").description("schedules: each fires schedule.triggered for a participant");
  /** A schedule's one-line answer, or the schedule as JSON. */
  const report = (schedule: ScheduleView, verb: string, options: { json?: boolean }) => {
    if (options.json) return printJson(context.io, schedule);
    printLine(context.io, `${verb} ${schedule.id} (${schedule.status}; next fire ${schedule.nextFireAt ?? "none"})`);
  };

  const list = schedules
    .command("list")
    .description("every schedule, with its next and latest fire")
    .option(...jsonFlag);
  list.option("--project <id>", "an operator key's choice of project");
  addListingOptions(list, 100).action(async (options: ListingOptions & { project?: string }) => {
    const client = context.client();
    const query = withoutUndefined({ projectId: options.project });
    const page = await fetchListing(
      (limit) => client.schedules.list({ ...query, limit }),
      () => client.schedules.iterate(query),
      options,
    );
    printListing(context.io, page, options, schedulesTable);
  });

  schedules
    .command("get")
    .description("a schedule and its latest fires, each with the event it published")
    .argument("<id>", "schedule id (sch_...)")
    .option(...jsonFlag)
    .action(async (id: string, options: { json?: boolean }) => {
      const schedule = await context.client().schedules.get(id);
      if (options.json) return printJson(context.io, schedule);
      printLine(context.io, scheduleDetails(schedule));
    });

  addTimingOptions(
    schedules
      .command("create")
      .description("make a schedule for one participant; it fires schedule.triggered with their ids")
      .requiredOption("--name <name>", "the events' scheduleName, which subscription filters match")
      .requiredOption("--mdh-project <guid>", "the participant's MyDataHelps project (data.projectId)")
      .requiredOption("--participant-id <guid>", "data.participantId")
      .requiredOption("--participant-identifier <text>", "data.participantIdentifier")
      .option("--project <id>", "the Hookbus project it fires in, for an operator key"),
  )
    .option(...jsonFlag)
    .action(
      async (
        options: TimingOptions & {
          name: string;
          mdhProject: string;
          participantId: string;
          participantIdentifier: string;
          project?: string;
          json?: boolean;
        },
      ) => {
        const body = {
          name: options.name,
          data: {
            projectId: options.mdhProject,
            participantId: options.participantId,
            participantIdentifier: options.participantIdentifier,
          },
          ...timingFields(options),
          ...withoutUndefined({ projectId: options.project }),
        } as CreateScheduleBody;
        report(await context.client().schedules.create(body), "created", options);
      },
    );

  addTimingOptions(
    schedules
      .command("update")
      .description("change a schedule; naming --cron, --every or --at retimes it from now")
      .argument("<id>", "schedule id")
      .option("--name <name>", "a new name"),
  )
    .option(...jsonFlag)
    .action(async (id: string, options: TimingOptions & { name?: string; json?: boolean }) => {
      const patch = { ...withoutUndefined({ name: options.name }), ...timingFields(options) };
      report(await context.client().schedules.update(id, patch), "updated", options);
    });

  for (const [action, description] of [
    ["pause", "stop a schedule's fires until it is resumed"],
    ["resume", "fire again; what was missed while paused follows its catch-up"],
  ] as const) {
    schedules
      .command(action)
      .description(description)
      .argument("<id>", "schedule id")
      .option(...jsonFlag)
      .action(async (id: string, options: { json?: boolean }) => {
        report(await context.client().schedules[action](id), action === "pause" ? "paused" : "resumed", options);
      });
  }

  schedules
    .command("delete")
    .description("delete a schedule; the events it fired stay")
    .argument("<id>", "schedule id")
    .option(...jsonFlag)
    .action(async (id: string, options: { json?: boolean }) => {
      await context.client().schedules.delete(id);
      if (options.json) return printJson(context.io, { id, deleted: true });
      printLine(context.io, `deleted ${id}`);
    });
}
