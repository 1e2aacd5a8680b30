import { Command, CommanderError, Option } from "commander";
import { ApiClient, ApiError } from "./api-client.js";
import { registerDeliveries } from "./commands/deliveries.js";
import { registerReplay } from "./commands/replay.js";
import { registerSendSample } from "./commands/send-sample.js";
import { registerSubscriptions } from "./commands/subscriptions.js";
import type { CommandContext } from "./context.js";
import { ExitCode, exitCodeFor, exitCodesHelp } from "./exit-codes.js";
import type { CliIo } from "./io.js";

const DEFAULT_API_URL = "http://127.0.0.1:8080";

interface ConnectionOptions {
  url: string;
  apiKey?: string;
}

/**
 * The `hookbus` command tree. Errors are thrown, never exited on, so `run` alone decides the
 * exit code. Connection options come before the command (`hookbus --url U deliveries list`):
 * `subscriptions create --url` is the webhook's URL, not the API's.
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command("hookbus")
    .description("Administer a Hookbus webhook service through its HTTP API.")
    .enablePositionalOptions()
    .addOption(new Option("--url <url>", "Hookbus API base URL").env("HOOKBUS_URL").default(DEFAULT_API_URL))
    .addOption(new Option("--api-key <key>", "an admin API key").env("HOOKBUS_API_KEY"))
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", `
--url and --api-key go before the command: hookbus --url URL deliveries list
Every command takes --json and then prints one JSON document for scripts.

${exitCodesHelp}`);

  const context: CommandContext = {
    io,
    client: () => clientFor(program),
  };
  registerDeliveries(program, context);
  registerReplay(program, context);
  registerSubscriptions(program, context);
  registerSendSample(program, context);
  return program;
}

function clientFor(program: Command): ApiClient {
  const { url, apiKey } = program.opts<ConnectionOptions>();
  if (!apiKey) program.error("error: no API key: set HOOKBUS_API_KEY or pass --api-key before the command", { exitCode: ExitCode.usage });
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) program.error(`error: --url/HOOKBUS_URL "${url}" is not an http(s) URL`, { exitCode: ExitCode.usage });
  return new ApiClient({ baseUrl: url, apiKey });
}

/** Runs one command line (without node and script) and answers its exit code. */
export async function run(args: string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(args, { from: "user" });
    return ExitCode.success;
  } catch (error) {
    // Commander has already printed its own messages.
    if (!(error instanceof CommanderError)) io.stderr.write(`${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}

/** The API's own words: its `error`, then one line per issue. */
function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return `error: ${error instanceof Error ? error.message : String(error)}`;
  const issues = error.issues.map((issue) => `  - ${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`);
  return [`error (HTTP ${error.status}): ${error.message}`, ...issues].join("\n");
}
