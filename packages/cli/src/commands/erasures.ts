import { Option, type Command } from "commander";
import type { CreateErasureBody, ErasureView } from "@hookbus/schemas";
import type { CommandContext } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { jsonFlag, printJson, printLine } from "../io.js";
import { withoutUndefined } from "../without-undefined.js";

/** How often a running erasure is asked how far it got. */
const POLL_INTERVAL_MS = 250;

interface CreateOptions {
  participantId?: string;
  participantIdentifier?: string;
  transId?: string;
  project?: string;
  json?: boolean;
}

export function registerErasures(program: Command, context: CommandContext): void {
  const erasures = program.command("erasures").description("erase one participant's data, and read an erasure's receipt");

  erasures
    .command("create")
    .description("erase every event carrying the value, with its deliveries' payloads and attempts; waits until done")
    .addOption(new Option("--participant-id <id>", "a MyDataHelps participant's id (PatientID)"))
    .addOption(new Option("--participant-identifier <identifier>", "a MyDataHelps participant's identifier (PatientIdentifier)"))
    .addOption(new Option("--trans-id <id>", "a TrialKit record's trans_id"))
    .option("--project <id>", "erase in this project only")
    .option(...jsonFlag)
    .addHelpText(
      "after",
      "\nExamples:\n  hookbus erasures create --participant-identifier PT-0042\n  hookbus erasures create --trans-id 1234 --project prj_01J...",
    )
    .action(async (options: CreateOptions, command: Command) => {
      const body = withoutUndefined({
        participantId: options.participantId,
        participantIdentifier: options.participantIdentifier,
        transId: options.transId,
        projectId: options.project,
      }) as CreateErasureBody;
      if (Object.keys(body).filter((k) => k !== "projectId").length !== 1)
        command.error("error: name exactly one of --participant-id, --participant-identifier, --trans-id", { exitCode: ExitCode.usage });
      const erasure = await context.client().erasures.run(body, { pollMs: POLL_INTERVAL_MS });
      if (options.json) return printJson(context.io, erasure);
      printReceipt(context, erasure);
    });

  erasures
    .command("get")
    .description("an erasure's receipt")
    .argument("<id>", "erasure id (era_...)")
    .option(...jsonFlag)
    .action(async (id: string, options: { json?: boolean }) => {
      const erasure = await context.client().erasures.get(id);
      if (options.json) return printJson(context.io, erasure);
      printReceipt(context, erasure);
    });
}

function printReceipt(context: CommandContext, erasure: ErasureView): void {
  const counts = `${erasure.events} events, ${erasure.deliveries} deliveries, ${erasure.attempts} attempts erased`;
  printLine(context.io, `${erasure.id} ${erasure.status}: ${counts}${erasure.status === "running" ? ` (of ${erasure.total} events)` : ""}`);
  const { status, finishedAt, message } = erasure.persistence;
  const files = {
    pending: "Redis's append-only file: rewrite pending",
    rewritten: `Redis's append-only file rewritten at ${finishedAt}`,
    refused: `Redis refused to rewrite its append-only file (${message}): see the README's "Erasure"`,
    failed: `Redis's append-only file rewrite failed (${message}): see the README's "Erasure"`,
    not_enabled: "Redis keeps no append-only file",
  }[status];
  printLine(context.io, files);
}
