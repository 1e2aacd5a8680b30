import type { Command } from "commander";
import type { KeyUsageView } from "@hookbus/schemas";
import { optionParser, positiveInteger } from "../arg-parsers.js";
import type { CommandContext } from "../context.js";
import { jsonFlag, printJson, printLine, printNote } from "../io.js";

export function registerSecrets(program: Command, context: CommandContext): void {
  const secrets = program.command("secrets").description("the encryption keys that seal subscriptions' secrets at rest");

  secrets
    .command("keys")
    .description("the keys in use, each with how many subscriptions it seals")
    .option(...jsonFlag)
    .action(async (options: { json?: boolean }) => {
      const usage = await context.client().secrets.keys();
      if (options.json) return printJson(context.io, usage);
      printLine(context.io, keyUsageText(usage));
    });

  secrets
    .command("reseal")
    .description("seal every subscription's secrets again under the sealing key, so that older keys can be dropped")
    .option("--page-size <n>", "subscriptions per request", optionParser(positiveInteger))
    .option(...jsonFlag)
    .addHelpText("after", "\nRun it once every process seals with the new key (HOOKBUS_SEALING_KEY); see the README.")
    .action(async (options: { json?: boolean; pageSize?: number }) => {
      const client = context.client();
      const before = await client.secrets.keys();
      const total = before.unsealed + before.keys.reduce((sum, key) => sum + key.subscriptions, 0);
      // Progress goes to stderr, so that --json output stays one document.
      const summary = await client.secrets.reseal({
        pageSize: options.pageSize,
        onProgress: (soFar) => printNote(context.io, `checked ${soFar.checked}/${total}, resealed ${soFar.resealed}`),
      });
      if (options.json) return printJson(context.io, summary);
      printLine(context.io, `resealed ${summary.resealed} of ${summary.checked} subscriptions`);
      printLine(context.io, `renamed ${summary.reindexed} erasure index sets under the sealing key`);
      if (summary.unreadable.length > 0) printLine(context.io, `could not read (so not resealed): ${summary.unreadable.join(", ")}`);
      printLine(context.io, keyUsageText(summary.keys));
    });
}

/** The sealing key, then each key in use with its count, and which keys may be dropped. */
function keyUsageText(usage: KeyUsageView): string {
  const lines = [`sealing key: ${usage.sealingKeyId}`];
  for (const key of usage.keys) {
    const notes = [key.id === usage.sealingKeyId ? "sealing" : "still in use: keep it", key.held ? undefined : "NOT HELD by the ingest"];
    lines.push(`  ${key.id}: ${key.subscriptions} subscriptions (${notes.filter(Boolean).join(", ")})`);
  }
  if (usage.unsealed > 0) lines.push(`  not sealed (written before encryption at rest): ${usage.unsealed} subscriptions`);
  if (usage.keys.every((key) => key.id === usage.sealingKeyId) && usage.unsealed === 0)
    lines.push(
      "every subscription is sealed with the sealing key: once a reseal has run (it also renames the erasure index), the other keys may be dropped",
    );
  return lines.join("\n");
}
