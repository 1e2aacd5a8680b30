export * from "./replay.js";
export * from "./routing.js";
export * from "./subscription-lifecycle.js";
export * from "./schedule-lifecycle.js";
export * from "./fire-schedule.js";
export * from "./store-coalescer.js";
