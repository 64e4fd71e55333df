import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // Real servers, real SQLite files and a real browser: give slow machines room.
    testTimeout: 30_000,
    hookTimeout: 60_000
  }
})
