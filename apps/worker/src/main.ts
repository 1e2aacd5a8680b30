import { runService } from "@hookbus/core/runtime";
import { startWorker } from "./worker.js";

runService("hookbus-worker", (config, logger) => startWorker(config, { logger }));
