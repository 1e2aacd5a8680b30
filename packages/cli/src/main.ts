#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { run } from "./program.js";

// `hookbus deliveries list | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: () => readFileSync(process.stdin.fd, "utf8"),
});
