// Loaded into a process under test (node --expose-gc --require this file): on SIGUSR2 it
// collects all garbage and appends the heap then in use, in bytes, to the file named by
// HEAP_PROBE_FILE, one line a probe. What the process holds, without its garbage's ups and downs.
const { appendFileSync } = require("node:fs");

process.on("SIGUSR2", () => {
  global.gc();
  appendFileSync(process.env.HEAP_PROBE_FILE, `${process.memoryUsage().heapUsed}\n`);
});
