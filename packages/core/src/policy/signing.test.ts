import { Webhook } from "standardwebhooks";
import { activeSecrets, newSigningSecret, signatureHeader } from "./signing.js";

test("a signature verifies with the standardwebhooks package, and not with another secret", () => {
  const secret = newSigningSecret();
  const body = '{"type":"record.updated","data":{"transId":"435"}}';
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    "webhook-id": "dlv_1",
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatureHeader([secret], "dlv_1", timestamp, body),
  };
  expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
  expect(() => new Webhook(secret).verify(body.replace("435", "436"), headers)).toThrow();
});

test("during a rotation the header carries one signature per secret, and either secret verifies", () => {
  const [old, current] = [newSigningSecret(), newSigningSecret()];
  const timestamp = Math.floor(Date.now() / 1000);
  const header = signatureHeader([current, old], "dlv_2", timestamp, "{}");
  expect(header.split(" ")).toHaveLength(2);
  for (const secret of [old, current]) {
    expect(() =>
      new Webhook(secret).verify("{}", { "webhook-id": "dlv_2", "webhook-timestamp": String(timestamp), "webhook-signature": header }),
    ).not.toThrow();
  }
});

test("secrets are whsec_ and base64 of 32 random bytes", () => {
  const secret = newSigningSecret();
  expect(secret).toMatch(/^whsec_/);
  expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
  expect(newSigningSecret()).not.toBe(secret);
});

test("a rotated-out secret signs until its expiry, then no longer", () => {
  const secrets = [
    { secret: "whsec_new", createdAt: 0 },
    { secret: "whsec_old", createdAt: 0, expiresAt: 1000 },
  ];
  expect(activeSecrets(secrets, 999)).toEqual(["whsec_new", "whsec_old"]);
  expect(activeSecrets(secrets, 1000)).toEqual(["whsec_new"]);
});
