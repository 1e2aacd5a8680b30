import { ConfigError, loadConfig, runnable, type Config, type RunConfig } from "./config.js";
import { createLogger, type Logger } from "./logger.js";

export interface Stoppable {
  close(): Promise<void>;
}

/**
 * The entry point of an app run on its own: reads the environment (a bad value exits 1 with
 * a line per variable), starts the app, and on SIGTERM or SIGINT closes it (which lets work in
 * flight finish) before exiting.
 */
export function runService(
  name: string,
  start: (config: RunConfig, logger: Logger) => Promise<Stoppable>,
  check: (config: Config) => void = () => undefined,
): void {
  const logger = createLogger(name, process.env.LOG_LEVEL ?? "info");
  const main = async () => {
    const config = loadConfig();
    const runConfig = runnable(config);
    if (!runConfig) throw new ConfigError(`REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a cluster) is required to run ${name} on its own`);
    check(config);
    const service = await start(runConfig, logger);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, graceMs: config.shutdownGraceMs }, "stopping: finishing work in flight");
      // Closing waits on Redis, which may be gone: past the grace the process exits anyway, and
      // what it still held is taken over by other workers once its job locks lapse.
      const deadline = setTimeout(() => {
        logger.warn({ graceMs: config.shutdownGraceMs }, "shutdown grace passed: exiting with work left for stall recovery");
        process.exit(1);
      }, config.shutdownGraceMs);
      deadline.unref();
      await service.close().catch((error: unknown) => logger.error({ err: error }, "closing failed"));
      process.exit(0);
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
  };
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message);
    else logger.fatal({ err: error }, `${name} failed to start`);
    process.exit(1);
  });
}
