import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // The web app is built once for the browser tests (they must not rebuild it under each other).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite instances are heavy (a WASM Postgres each): cap workers to the machine's 2 cores.
    maxWorkers: 2,
  },
});
