import { defineConfig } from 'vitest/config';

// Tests run the TypeScript sources directly; CLI tests spawn the built CLI
// (`npm test` builds first). Native code and SQLite are real, so tests are
// slow-ish and run in forked processes for isolation, with a fresh temp folder
// and cache per run (test/setup/).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    globalSetup: ['test/setup/tmp.ts', 'test/setup/cache.ts'],
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
