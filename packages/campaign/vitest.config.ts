import { defineProject, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

export default mergeConfig(
  shared,
  defineProject({
    test: {
      name: "campaign",
      // starts a real PostgreSQL server on 127.0.0.1 for the tests, and stops it after them
      globalSetup: ["./test/setup/postgres.ts"]
    }
  })
)
