export { startIngest, type RunningIngest } from "./server.js";
export { createIngestApp } from "./app.js";
