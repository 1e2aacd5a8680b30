import { pino, type Logger } from "pino";

/**
 * JSON-line logs. Secrets, passwords and authorization headers are redacted by path as a
 * second line of defence: the code never passes them to a log call on purpose.
 */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ["secret", "*.secret", "secrets", "*.secrets", "password", "*.password", "*.auth.password", "headers.authorization", "*.headers.authorization", "apiKey"],
      censor: "[redacted]",
    },
  });
}
export type { Logger };
