import { Command, CommanderError, Option } from "commander";
import { HookbusApiError, HookbusClient } from "@hookbus/client";
import { registerAudit } from "./commands/audit.js";
import { registerDeliveries } from "./commands/deliveries.js";
import { registerErasures } from "./commands/erasures.js";
import { registerKeys, registerProjects } from "./commands/projects.js";
import { registerPublish } from "./commands/publish.js";
import { registerReplay } from "./commands/replay.js";
import { registerSchedules } from "./commands/schedules.js";
import { registerSecrets } from "./commands/secrets.js";
import { registerSendSample } from "./commands/send-sample.js";
import { registerSubscriptions } from "./commands/subscriptions.js";
import type { CommandContext } from "./context.js";
import { ExitCode, exitCodeFor, exitCodesHelp } from "./exit-codes.js";
import { printNote, type CliIo } from "./io.js";
import { readSecret } from "./secret-input.js";

const DEFAULT_API_URL = "http://127.0.0.1:8080";

interface ConnectionOptions {
  url: string;
  apiKey?: string;
  apiKeyFile?: string;
  apiKeyStdin?: boolean;
  insecure?: boolean;
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
    .addOption(new Option("--api-key-file <path>", "read the admin API key from a file").env("HOOKBUS_API_KEY_FILE"))
    .addOption(new Option("--api-key-stdin", "read the admin API key from standard input"))
    .addOption(
      new Option("--api-key <key>", "an admin API key (visible in ps: prefer HOOKBUS_API_KEY or the two above)").env("HOOKBUS_API_KEY"),
    )
    .addOption(new Option("--insecure", "allow plain http to a host other than this machine (the key travels unencrypted)"))
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .exitOverride()
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      `
Connection options go before the command: hookbus --url URL deliveries list
The API key comes from HOOKBUS_API_KEY, --api-key-file (or HOOKBUS_API_KEY_FILE) or
--api-key-stdin; --api-key works too but shows the key to anyone running ps.
Every command takes --json and then prints one JSON document for scripts.

${exitCodesHelp}`,
    );

  const context: CommandContext = {
    io,
    client: () => clientFor(program, io),
  };
  registerDeliveries(program, context);
  registerReplay(program, context);
  registerSubscriptions(program, context);
  registerSendSample(program, context);
  registerPublish(program, context);
  registerSecrets(program, context);
  registerProjects(program, context);
  registerKeys(program, context);
  registerAudit(program, context);
  registerErasures(program, context);
  registerSchedules(program, context);
  return program;
}

function clientFor(program: Command, io: CliIo): HookbusClient {
  const options = program.opts<ConnectionOptions>();
  const { url } = options;
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url))
    program.error(`error: --url/HOOKBUS_URL "${url}" is not an http(s) URL`, { exitCode: ExitCode.usage });
  const { protocol, hostname } = new URL(url);
  if (protocol === "http:" && !isLoopback(hostname) && !options.insecure) {
    program.error(`error: refusing to send the API key over plain http to ${hostname}: use https, or pass --insecure`, {
      exitCode: ExitCode.usage,
    });
  }
  const apiKey = readSecret(
    io,
    {
      stdin: options.apiKeyStdin,
      file: options.apiKeyFile,
      value: options.apiKey,
      valueOnCommandLine: program.getOptionValueSource("apiKey") === "cli",
    },
    { flag: "--api-key", safer: "HOOKBUS_API_KEY, --api-key-file or --api-key-stdin" },
  );
  if (!apiKey)
    program.error("error: no API key: set HOOKBUS_API_KEY, or pass --api-key-file or --api-key-stdin before the command", {
      exitCode: ExitCode.usage,
    });
  return new HookbusClient({ baseUrl: url, apiKey });
}

/** This machine: the only place plain http keeps the key off the network. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Runs one command line (without node and script) and answers its exit code. */
export async function run(args: string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync(args, { from: "user" });
    return ExitCode.success;
  } catch (error) {
    // Commander has already printed its own messages.
    if (!(error instanceof CommanderError)) printNote(io, describeError(error));
    return exitCodeFor(error);
  }
}

/** The API's own words: its `error`, then one line per issue. */
function describeError(error: unknown): string {
  if (!(error instanceof HookbusApiError)) return `error: ${error instanceof Error ? error.message : String(error)}`;
  const issues = error.issues.map((issue) => `  - ${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`);
  return [`error (HTTP ${error.status}): ${error.message}`, ...issues].join("\n");
}
