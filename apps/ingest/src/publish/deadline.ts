import { UnavailableError } from "@hookbus/core/policy";

/** How long a publish with no sync subscription may wait on Redis before it answers 503. */
export const ASYNC_PUBLISH_DEADLINE_MS = 5000;

export const UNAVAILABLE = "Redis did not answer in time: the event may not be stored; publish it again with the same id";

/**
 * The promise's value, or UnavailableError once the deadline passes. The expiry waits for the
 * I/O already received to be read (setImmediate runs after the poll phase): a store that Redis
 * carried out by the deadline, its reply on the socket as the timer fires, is answered as stored.
 */
export async function beforeDeadline<T>(promise: Promise<T>, deadline: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    const expire = () => reject(new UnavailableError(message || "deadline passed"));
    timer = setTimeout(() => setImmediate(expire), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
