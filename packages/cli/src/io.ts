/** Where a command writes: the process's own streams in main.ts. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

export function printLine(io: CliIo, text = ""): void {
  io.stdout.write(`${text}\n`);
}

/** Every command takes --json; its output is then one JSON document and nothing else. */
export const jsonFlag = ["--json", "print JSON for scripts"] as const;

/** Machine-readable output for --json: exactly one JSON document on stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Hints and notes go to stderr so they never mix into output a script parses. */
export function printNote(io: CliIo, text: string): void {
  io.stderr.write(`${text}\n`);
}
