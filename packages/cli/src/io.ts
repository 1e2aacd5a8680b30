import { terminalSafe, terminalSafeJson } from "./terminal-safe.js";

/** Where a command writes, and where it reads a secret from: the process's own streams in main.ts. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  /** All of standard input, for --api-key-stdin and --password-stdin. */
  readStdin(): string;
}

/** Every line goes out terminal-safe: response bodies and error messages may come from a receiver. */
export function printLine(io: CliIo, text = ""): void {
  io.stdout.write(`${terminalSafe(text)}\n`);
}

/** Every command takes --json; its output is then one JSON document and nothing else. */
export const jsonFlag = ["--json", "print JSON for scripts"] as const;

/** Machine-readable output for --json: exactly one JSON document on stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${terminalSafeJson(value)}\n`);
}

/** One JSON document on one line, for output that goes on (NDJSON): what --follow --json prints. */
export function printJsonLine(io: CliIo, value: unknown): void {
  io.stdout.write(`${terminalSafeJson(value, 0)}\n`);
}

/** Hints and notes go to stderr so they never mix into output a script parses. */
export function printNote(io: CliIo, text: string): void {
  io.stderr.write(`${terminalSafe(text)}\n`);
}
