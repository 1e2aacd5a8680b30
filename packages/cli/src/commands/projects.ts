import { Option, type Command } from "commander";
import type { ProjectKeyRole } from "@hookbus/schemas";
import { optionParser, retrySchedule } from "../arg-parsers.js";
import type { CommandContext } from "../context.js";
import { keysTable, projectsTable } from "../format.js";
import { jsonFlag, printJson, printLine, printNote } from "../io.js";
import { withoutUndefined } from "../without-undefined.js";

export function registerProjects(program: Command, context: CommandContext): void {
  const projects = program.command("projects").description("projects (studies): each has its own subscriptions, deliveries and keys");

  projects
    .command("list")
    .description("every project (a project's key sees its own)")
    .option(...jsonFlag)
    .action(async (options: { json?: boolean }) => {
      printItems(context, (await context.client().projects.list()).items, options, projectsTable);
    });

  projects
    .command("create")
    .description("make a project (an operator key's)")
    .requiredOption("--name <name>", "what people call it")
    .option("--id <guid>", "a MyDataHelps project's GUID, so that its events' data.projectId names it; else one is made")
    .option("--retry-schedule <delays>", 'the default of subscriptions made in it, e.g. "5s,5m,30m"', optionParser(retrySchedule))
    .option("--retention <duration>", 'how long its events and deliveries are kept, e.g. "90d"; else HOOKBUS_RETENTION')
    .option(...jsonFlag)
    .action(async (options: { name: string; id?: string; retrySchedule?: (string | number)[]; retention?: string; json?: boolean }) => {
      const { name, id, retrySchedule, retention } = options;
      // Sent as typed: the API says what it expects of a retention.
      const created = await context.client().projects.create(withoutUndefined({ name, id, retrySchedule, retention }));
      if (options.json) return printJson(context.io, created);
      printLine(context.io, `created ${created.id}`);
    });

  projects
    .command("delete")
    .description("delete a project and its keys (an operator key's)")
    .argument("<id>", "project id")
    .option("--cascade", "delete its subscriptions too; without it, a project with subscriptions is refused")
    .option(...jsonFlag)
    .action(async (id: string, options: { cascade?: boolean; json?: boolean }) => {
      await context.client().projects.delete(id, { cascade: options.cascade });
      if (options.json) return printJson(context.io, { id, deleted: true });
      printLine(context.io, `deleted ${id}`);
    });
}

export function registerKeys(program: Command, context: CommandContext): void {
  const keys = program.command("keys").description("a project's API keys: make, list, revoke");

  keys
    .command("list")
    .description("the project's keys, never the keys themselves")
    .argument("<project>", "project id")
    .option(...jsonFlag)
    .action(async (projectId: string, options: { json?: boolean }) => {
      printItems(context, (await context.client().keys.list(projectId)).items, options, keysTable);
    });

  keys
    .command("create")
    .description("make a key of the project; prints it once")
    .argument("<project>", "project id")
    .addOption(
      new Option("--role <role>", "admin manages the project; publisher publishes its events")
        .choices(["admin", "publisher"])
        .makeOptionMandatory(),
    )
    .requiredOption("--name <name>", "who holds it, e.g. the study coordinator")
    .option(...jsonFlag)
    .action(async (projectId: string, options: { role: ProjectKeyRole; name: string; json?: boolean }) => {
      const created = await context.client().keys.create(projectId, { role: options.role, name: options.name });
      if (options.json) return printJson(context.io, created);
      printLine(context.io, `created ${created.id}`);
      printLine(context.io, `key     ${created.key}`);
      printNote(context.io, "keep the key now: it is not shown again");
    });

  keys
    .command("revoke")
    .description("revoke a key: every ingest refuses it within a second")
    .argument("<project>", "project id")
    .argument("<key-id>", "key id (key_...)")
    .option(...jsonFlag)
    .action(async (projectId: string, keyId: string, options: { json?: boolean }) => {
      await context.client().keys.revoke(projectId, keyId);
      if (options.json) return printJson(context.io, { id: keyId, revoked: true });
      printLine(context.io, `revoked ${keyId}`);
    });
}

/** A list as one JSON document with --json, else as a table. */
function printItems<T>(context: CommandContext, items: T[], options: { json?: boolean }, asTable: (items: T[]) => string): void {
  if (options.json) printJson(context.io, items);
  else printLine(context.io, asTable(items));
}
