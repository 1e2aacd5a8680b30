export { buildProgram, run } from "./program.js";
export { ExitCode } from "./exit-codes.js";
export type { CliIo } from "./io.js";
