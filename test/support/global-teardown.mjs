export default async function globalTeardown() {
  await globalThis.__tandemRedis?.stop();
  globalThis.__tandemRedis = undefined;
}
