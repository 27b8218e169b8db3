import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files share one PostgreSQL server but each uses its own database; two cores here.
    fileParallelism: true,
    maxWorkers: 2,
  },
})
