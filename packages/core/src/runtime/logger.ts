import { pino, type DestinationStream, type Logger } from "pino";

/**
 * JSON-line logs. Secrets, passwords and authorization headers are redacted by path as a
 * second line of defence: the code never passes them to a log call on purpose.
 * `destination` defaults to stdout; tests pass one to read what would be written.
 */
export function createLogger(name: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    redact: {
      paths: [
        "secret",
        "*.secret",
        "secrets",
        "*.secrets",
        "password",
        "*.password",
        "*.auth.password",
        "headers.authorization",
        "*.headers.authorization",
        "apiKey",
      ],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
export type { Logger };
