import { InvalidArgumentError } from "commander";
import { parseDuration } from "@hookbus/schemas";

// Pure parsers for option values, and `optionParser` to hand them to commander, which then
// reports a bad value as a usage error naming the option.

/** `a,b , c` -> ["a", "b", "c"]. */
export function commaList(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`"${value}" is not a positive whole number`);
  return Number(value);
}

/**
 * `5s,5m,30m` -> ["5s", "5m", "30m"]: the API takes the units itself; bare numbers are
 * milliseconds. An empty value means no retries at all (one attempt, then dead-lettered).
 */
export function retrySchedule(value: string): (string | number)[] {
  // The API's own duration grammar, so a bad delay is refused here with the same words.
  return commaList(value).map((delay) => (parseDuration(delay), /^\d+$/.test(delay) ? Number(delay) : delay));
}

/** One `Name: value` header, added to those given before (the option repeats). */
export function headerEntry(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(":");
  const name = value.slice(0, colon).trim();
  if (colon < 1 || name === "") throw new Error(`"${value}" is not a header of the form "Name: value"`);
  return { ...previous, [name]: value.slice(colon + 1).trim() };
}

export function optionParser<T, P>(parse: (value: string, previous: P) => T): (value: string, previous: P) => T {
  return (value, previous) => {
    try {
      return parse(value, previous);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}
