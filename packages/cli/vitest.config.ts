import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: "cli",
      // the campaign commands are also tested on a real PostgreSQL server (campaign's own test setup)
      globalSetup: ["../campaign/test/setup/postgres.ts"]
    }
  })
)
