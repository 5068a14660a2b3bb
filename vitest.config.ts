import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*", "examples"],
    // vitest's default is one test file at a time on a 2-core machine (cores - 1); most files spend much of their time
    // waiting (sockets, timers, child processes), so two at a time use the cores those waits leave idle.
    maxWorkers: Math.max(2, availableParallelism() - 1)
  }
})
