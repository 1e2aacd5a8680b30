import { UnavailableError } from "@hookbus/core/policy";

/** How long a publish with no sync subscription may wait on Redis before it answers 503. */
export const ASYNC_PUBLISH_DEADLINE_MS = 5000;

export const UNAVAILABLE = "Redis did not answer in time: the event may not be stored; publish it again with the same id";

/** The promise's value, or UnavailableError once the deadline passes. */
export async function beforeDeadline<T>(promise: Promise<T>, deadline: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnavailableError(message || "deadline passed")), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
