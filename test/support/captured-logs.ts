/** Every JSON line a logger wrote, as pino writes it (redaction applied): pass `destination` to createLogger. */
export class CapturedLogs {
  readonly lines: string[] = [];
  readonly destination = { write: (line: string) => void this.lines.push(line) };

  get text(): string {
    return this.lines.join("");
  }

  /** The lines, parsed, whose message is `msg`. */
  withMessage(msg: string): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === msg);
  }
}
