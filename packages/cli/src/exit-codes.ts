import { CommanderError } from "commander";
import { HookbusApiError, HookbusUnreachableError } from "@hookbus/client";

/** What scripts can rely on; `hookbus --help` lists them. */
export const ExitCode = {
  success: 0,
  apiError: 1,
  usage: 2,
  unreachable: 3,
  replayFailures: 4,
  publishRefusals: 5,
} as const;

export const exitCodesHelp = `Exit codes:
  0  success
  1  the API answered with an error (its message and issues are printed)
  2  usage error: unknown command or option, bad or missing value
  3  cannot reach the API (refused, unknown host, no answer in time)
  4  a bulk replay finished, but some of its deliveries failed
  5  a publish went through, but some of its events were refused`;

/** A bulk replay ran to the end and some deliveries failed again. */
export class ReplayFailuresError extends Error {
  override name = "ReplayFailuresError";
  constructor(
    readonly replayId: string,
    readonly failed: number,
    readonly total: number,
  ) {
    super(`replay ${replayId}: ${failed} of ${total} deliveries failed`);
  }
}

/** A batch publish went through and the API refused some of its events. */
export class PublishRefusalsError extends Error {
  override name = "PublishRefusalsError";
  constructor(
    readonly refused: number,
    readonly total: number,
  ) {
    super(`${refused} of ${total} events were refused`);
  }
}

export function exitCodeFor(error: unknown): number {
  // Commander reports --help and --version through the same path as its errors.
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.success : ExitCode.usage;
  if (error instanceof HookbusUnreachableError) return ExitCode.unreachable;
  if (error instanceof HookbusApiError) return ExitCode.apiError;
  if (error instanceof ReplayFailuresError) return ExitCode.replayFailures;
  if (error instanceof PublishRefusalsError) return ExitCode.publishRefusals;
  // Anything else is a fault in the CLI itself: the generic failure code, with its message.
  return ExitCode.apiError;
}
