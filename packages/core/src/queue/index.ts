export * from "./queues.js";
