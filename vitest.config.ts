import { defineConfig } from 'vitest/config';

// Tests run the TypeScript sources directly; CLI tests spawn the built CLI
// (`npm test` builds first). Native code and SQLite are real, so tests are
// slow-ish and run in forked processes for isolation.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    pool: 'forks',
    globalSetup: ['test/setup/tmp.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
