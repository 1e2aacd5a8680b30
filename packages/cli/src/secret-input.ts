import { readFileSync } from "node:fs";
import type { CliIo } from "./io.js";
import { printNote } from "./io.js";

/** The ways one secret may be given; at most one is used, in this order: stdin, file, value. */
export interface SecretSources {
  stdin?: boolean;
  file?: string;
  value?: string;
  /** True when `value` came from a flag on the command line, where `ps` shows it to everyone. */
  valueOnCommandLine: boolean;
}

/** A secret read from standard input or a file: the text without its final line break. */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}

/**
 * The secret from the first source given. A value typed on the command line still works but
 * warns, naming the safer ways: every user of the machine can read it in the process list.
 */
export function readSecret(io: CliIo, sources: SecretSources, names: { flag: string; safer: string }): string | undefined {
  if (sources.stdin) return withoutFinalNewline(io.readStdin());
  if (sources.file !== undefined) return withoutFinalNewline(readFileSync(sources.file, "utf8"));
  if (sources.value !== undefined && sources.valueOnCommandLine) {
    printNote(io, `warning: ${names.flag} shows the secret to every user of this machine (ps); use ${names.safer} instead`);
  }
  return sources.value;
}
