export default async function globalTeardown() {
  await globalThis.__HOOKBUS_TEST_REDIS__?.stop();
}
