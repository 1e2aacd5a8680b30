#!/usr/bin/env node
// The benchmark's receiver, in a process of its own as a real receiver would be: answers every
// POST at once with 200, and tells its parent what arrived and when (the wall clock, in ms, with
// sub-millisecond precision, comparable across processes on one machine). Arrivals are sent in
// batches, every few milliseconds, so that telling costs little beside answering.
import http from "node:http";

const now = () => performance.timeOrigin + performance.now();
let arrivals = [];
const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end('{"ok":true}');
    const at = now();
    let transId;
    try {
      transId = JSON.parse(Buffer.concat(chunks).toString()).data?.transId;
    } catch {
      transId = undefined;
    }
    arrivals.push({ transId, at });
  });
});
setInterval(() => {
  if (arrivals.length === 0) return;
  process.send({ arrivals });
  arrivals = [];
}, 2);
process.on("disconnect", () => process.exit(0));
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
