import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Simulation tests run millions of runs; give slow shared machines room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Commands wrap their text to the terminal (100 columns when not one): tests that read
    // whole lines run as on a wide terminal; test/terminal-width.test.ts sets 80 itself.
    env: { COLUMNS: '400' },
  },
});
