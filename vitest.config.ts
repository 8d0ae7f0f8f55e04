import { defineConfig } from 'vitest/config';

// Tests import the compiled server only where they start it as a process; kernels are
// imported from src/ directly (vite transpiles them).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
