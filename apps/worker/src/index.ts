export { startWorker, type RunningWorker, type WorkerOptions } from "./worker.js";
export { renderBody, nativeBody } from "./delivery/render-body.js";
