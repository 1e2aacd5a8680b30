import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

// The built `hookbus` command, run as a child process against a real Hookbus, as a script would.
const CLI = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `hookbus ARGS` with only PATH and `env` in its environment; its output is collected in `output`. */
export function startCli(args: string[], env: Record<string, string>, stdin?: string) {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  const output = { stdout: "", stderr: "" };
  child.stdout!.on("data", (chunk: Buffer) => (output.stdout += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output.stderr += chunk.toString("utf8")));
  const closed = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, ...output }));
  });
  return { child, output, closed };
}

/** Runs `hookbus ARGS` to its end. */
export function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  return startCli(args, env, stdin).closed;
}
