import { finishedCount } from "./progress.js";

test("a replay's settled deliveries include those another replay took, up to the total", () => {
  const replay = {
    id: "rpl_1",
    status: "running" as const,
    total: 10,
    done: 4,
    failed: 1,
    skipped: 3,
    filter: { status: "failed" as const },
    createdAt: "",
  };
  expect(finishedCount(replay)).toBe(8);
  expect(finishedCount({ ...replay, skipped: 9 })).toBe(10);
});
