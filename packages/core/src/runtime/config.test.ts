import { ConfigError, loadConfig } from "./config.js";
import { newEncryptionKey } from "../policy/secret-box.js";

const HOOKBUS_ENCRYPTION_KEY = newEncryptionKey();

test("defaults follow the design: port 8080, the default schedule, the {hookbus} prefix, no private network allowed", () => {
  const config = loadConfig({ HOOKBUS_ENCRYPTION_KEY });
  expect(config).toMatchObject({ port: 8080, workerMetricsPort: 9091, queuePrefix: "{hookbus}", apiKeys: [] });
  expect(config.allowedNetworks.cidrs).toEqual([]);
  expect(config.retrySchedule).toHaveLength(7);
  expect(config.retentionMs).toBe(30 * 24 * 3600 * 1000);
});

test("API keys and schedules are parsed", () => {
  const config = loadConfig({
    HOOKBUS_ENCRYPTION_KEY,
    HOOKBUS_API_KEYS: "admin:0123456789abcdef, publisher:fedcba9876543210",
    HOOKBUS_RETRY_SCHEDULE: "1s,2m",
  });
  expect(config.apiKeys).toEqual([
    { role: "admin", key: "0123456789abcdef" },
    { role: "publisher", key: "fedcba9876543210" },
  ]);
  expect(config.retrySchedule).toEqual([1000, 120_000]);
});

test("an API key may carry a name (name=role:key) beside keys of the older role:key form, whose key may hold = and :", () => {
  const config = loadConfig({
    HOOKBUS_ENCRYPTION_KEY,
    HOOKBUS_API_KEYS: "Ops on-call=admin:0123456789abcdef,publisher:key=with:colons==,ci.bot@lab=publisher:fedcba9876543210",
  });
  expect(config.apiKeys).toEqual([
    { role: "admin", key: "0123456789abcdef", name: "Ops on-call" },
    { role: "publisher", key: "key=with:colons==" },
    { role: "publisher", key: "fedcba9876543210", name: "ci.bot@lab" },
  ]);
});

test("a malformed named key is refused with the forms it may take, and the key itself is not in the message", () => {
  expect(() => loadConfig({ HOOKBUS_ENCRYPTION_KEY, HOOKBUS_API_KEYS: "a,b=admin:0123456789abcdef" })).toThrow(
    /HOOKBUS_API_KEYS: "…" must be role:key or name=role:key/,
  );
  let message = "";
  try {
    loadConfig({ HOOKBUS_ENCRYPTION_KEY, HOOKBUS_API_KEYS: "owner=root:secret-0123456789abcdef" });
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toContain('"owner=root:…" must be role:key or name=role:key');
  expect(message).not.toContain("secret-0123456789abcdef");
});

test("the audit trail is kept for ever unless HOOKBUS_AUDIT_RETENTION says how long", () => {
  expect(loadConfig({ HOOKBUS_ENCRYPTION_KEY }).auditRetentionMs).toBeUndefined();
  expect(loadConfig({ HOOKBUS_ENCRYPTION_KEY, HOOKBUS_AUDIT_RETENTION: "never" }).auditRetentionMs).toBeUndefined();
  expect(loadConfig({ HOOKBUS_ENCRYPTION_KEY, HOOKBUS_AUDIT_RETENTION: "2555d" }).auditRetentionMs).toBe(2555 * 86_400_000);
  expect(() => loadConfig({ HOOKBUS_ENCRYPTION_KEY, HOOKBUS_AUDIT_RETENTION: "seven years" })).toThrow(/HOOKBUS_AUDIT_RETENTION/);
});

test("each bad value gets a line that names the variable", () => {
  const attempt = () =>
    loadConfig({
      PORT: "http",
      HOOKBUS_API_KEYS: "root:short",
      HOOKBUS_RETRY_SCHEDULE: "5s,later",
      HOOKBUS_ALLOWED_NETWORKS: "10.0.0.0/33",
    });
  expect(attempt).toThrow(ConfigError);
  const message = (() => {
    try {
      attempt();
    } catch (e) {
      return (e as Error).message;
    }
    return "";
  })();
  for (const name of ["PORT", "HOOKBUS_API_KEYS", "HOOKBUS_RETRY_SCHEDULE", "HOOKBUS_ALLOWED_NETWORKS"]) expect(message).toContain(name);
});

test("the encryption key is required, and a key of the wrong size is refused", () => {
  expect(() => loadConfig({})).toThrow(/HOOKBUS_ENCRYPTION_KEY: required: the base64 of 32 random bytes/);
  expect(() => loadConfig({ HOOKBUS_ENCRYPTION_KEY: Buffer.alloc(16).toString("base64") })).toThrow(
    /HOOKBUS_ENCRYPTION_KEY: each key must be the base64 of 32 bytes/,
  );
});

test("duplicate encryption key ids are refused at start, with the id named", () => {
  const [a, b] = [newEncryptionKey(), newEncryptionKey()];
  expect(() => loadConfig({ HOOKBUS_ENCRYPTION_KEY: `k1:${a},k1:${b}` })).toThrow(/HOOKBUS_ENCRYPTION_KEY: key id "k1" is given twice/);
});

test("HOOKBUS_SEALING_KEY names the key that seals; unset, the first one does; an unknown id is refused", () => {
  const [a, b] = [newEncryptionKey(), newEncryptionKey()];
  expect(loadConfig({ HOOKBUS_ENCRYPTION_KEY: `k1:${a},k2:${b}` }).encryption.sealingKeyId).toBe("k1");
  expect(loadConfig({ HOOKBUS_ENCRYPTION_KEY: `k1:${a},k2:${b}`, HOOKBUS_SEALING_KEY: "k2" }).encryption.sealingKeyId).toBe("k2");
  expect(() => loadConfig({ HOOKBUS_ENCRYPTION_KEY: `k1:${a}`, HOOKBUS_SEALING_KEY: "k2" })).toThrow(
    /HOOKBUS_SEALING_KEY: the sealing key "k2" is not among the keys \(k1\)/,
  );
});
