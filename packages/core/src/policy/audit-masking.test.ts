import { MASKED, maskSecrets } from "./audit-masking.js";

test("secrets, passwords, keys, header values and URL query values are masked at any depth; other values are kept", () => {
  const masked = maskSecrets({
    url: "https://example.org/hooks?token=abc123&site=7",
    secret: "whsec_abc",
    auth: { type: "basic", username: "trialkit", password: "hunter2" },
    headers: { "x-token": "t0k3n", "x-env": "prod" },
    keys: [{ name: "ci", key: "hbk_secret" }],
    enabled: false,
    description: null,
  });
  expect(masked).toEqual({
    url: "https://example.org/hooks?token=********&site=********",
    secret: MASKED,
    auth: { type: "basic", username: "trialkit", password: MASKED },
    headers: { "x-token": MASKED, "x-env": MASKED },
    keys: [{ name: "ci", key: MASKED }],
    enabled: false,
    description: null,
  });
  expect(JSON.stringify(masked)).not.toMatch(/whsec_abc|hunter2|t0k3n|hbk_secret|abc123/);
});
