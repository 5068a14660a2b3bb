import { PgClient } from "@effect/sql-pg"
import { assert, describe, inject, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

describe("test setup", () => {
  it.effect("a real PostgreSQL server is up", () =>
    Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const rows = yield* sql<{ v: string }>`SELECT version() AS v`
      assert.match(rows[0].v, /^PostgreSQL 18/)
    }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(inject("databaseUrl")) }))))
})
