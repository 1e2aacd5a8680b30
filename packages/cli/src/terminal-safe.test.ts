import { terminalSafe, terminalSafeJson } from "./terminal-safe.js";

test("escape sequences, bells, C1 controls and bidi overrides are stripped; tabs and newlines stay", () => {
  const hostile = "ok\u001b]0;pwned\u0007\u001b[31mred\u009b2J\u202eevil\u007f\tnext\nline\r";
  expect(terminalSafe(hostile)).toBe("ok]0;pwned[31mred2Jevil\tnext\nline");
});

test("JSON output keeps the same data with every control escaped", () => {
  const value = { body: "a\u001b[2Jb\u009bc\u202ed" };
  const text = terminalSafeJson(value);
  expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  expect(JSON.parse(text)).toEqual(value);
});
