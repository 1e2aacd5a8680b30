export * from "./queues.js";
export * from "./schedule-timers.js";
