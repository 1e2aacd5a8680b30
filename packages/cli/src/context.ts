import type { HookbusClient } from "@hookbus/client";
import type { CliIo } from "./io.js";

/** What every command gets: where to write, and the API client for the global options. */
export interface CommandContext {
  io: CliIo;
  /** Built on first use, so `--help` and usage errors never need a key. */
  client(): HookbusClient;
}
