export { buildProgram, run } from "./program.js";
export { ApiClient, ApiError, ApiUnreachableError } from "./api-client.js";
export { ExitCode } from "./exit-codes.js";
export type { CliIo } from "./io.js";
