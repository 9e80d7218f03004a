import { defineConfig } from 'vitest/config';

// Tests sit beside their component (appliance/test, control/test, …). Integration tests start
// real processes and sockets, so they get generous timeouts; nothing here asserts a timing.
export default defineConfig({
  test: {
    include: ['{appliance,control,packager,protocol,bench,scripts,image}/**/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Under CI also write a JSON report, from which .ci/run prints a plain "N passed, N failed".
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/test-results.json' }]] : ['default'],
    // `npm test` passes --coverage and prints one summary (no gate yet); a run of a few files leaves
    // it off. V8 counts what runs in the test processes themselves: code that tests start in their
    // own processes (daemons, control, the site) is not counted, so the figure is a floor.
    coverage: {
      provider: 'v8',
      include: ['{appliance,control,packager,protocol}/**/*.ts'],
      exclude: ['**/test/**'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      reportOnFailure: true,
    },
  },
});
