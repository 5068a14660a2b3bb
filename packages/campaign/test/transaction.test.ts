import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as path from "node:path"
import { LedgerError } from "../src/CampaignError.js"
import { describeCause, ledgerOp } from "../src/internal/errors.js"
import * as Sqlite from "../src/internal/sqlite.js"
import { tempDir } from "./helpers.js"

// A deferred foreign key is checked at COMMIT: a dependable way to make the COMMIT itself fail (as a full disk does).
const client = Effect.gen(function*() {
  const dir = yield* tempDir
  const sql = yield* Sqlite.make({ filename: path.join(dir, "t.db"), pragmas: ["PRAGMA foreign_keys = ON"] })
  yield* sql`CREATE TABLE parent (id INTEGER PRIMARY KEY)`
  yield* sql`CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`
  return sql
})

const failures = <E>(exit: Exit.Exit<unknown, E>): ReadonlyArray<E> => {
  assert.isTrue(Exit.isFailure(exit))
  if (Exit.isSuccess(exit)) return []
  assert.isFalse(Cause.isDie(exit.cause), `a defect: ${Cause.pretty(exit.cause)}`)
  return Chunk.toReadonlyArray(Cause.failures(exit.cause))
}

describe("the SQLite client's transactions", () => {
  it.scoped("a failed COMMIT is a SqlError (a LedgerError in the ledger), and the transaction is rolled back", () =>
    Effect.gen(function*() {
      const sql = yield* client
      const exit = yield* Effect.exit(
        ledgerOp("commit outcomes")(sql.withTransaction(sql`INSERT INTO child VALUES (1, 99)`))
      )
      const [error] = failures(exit)
      assert.instanceOf(error, LedgerError)
      assert.strictEqual(error.operation, "commit outcomes")
      assert.match(error.detail, /FOREIGN KEY/)
      // rolled back: nothing was written, and the connection takes a new transaction
      yield* sql.withTransaction(sql`INSERT INTO parent VALUES (1)`)
      const rows = yield* sql<{ n: number }>`SELECT count(*) AS n FROM child`
      assert.strictEqual(rows[0].n, 0)
    }))

  it.scoped("a failed ROLLBACK is a SqlError after the error that caused it", () =>
    Effect.gen(function*() {
      const sql = yield* client
      // the transaction ended under the client's feet: its ROLLBACK fails ("no transaction is active")
      const exit = yield* Effect.exit(sql.withTransaction(
        Effect.zipRight(sql.unsafe("COMMIT"), Effect.fail(new LedgerError({ operation: "claim rows", detail: "x" })))
      ))
      const errors = failures(exit)
      assert.strictEqual(errors.length, 2)
      assert.instanceOf(errors[0], LedgerError)
      assert.instanceOf(errors[1], SqlError)
      assert.match(describeCause((errors[1] as SqlError).cause), /no transaction is active/)
    }))

  it.scoped("a failure inside a savepoint rolls back to it, and the outer transaction commits", () =>
    Effect.gen(function*() {
      const sql = yield* client
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO parent VALUES (1)`
        yield* Effect.ignore(
          sql.withTransaction(Effect.zipRight(sql`INSERT INTO parent VALUES (2)`, Effect.fail("no")))
        )
      }))
      const rows = yield* sql<{ id: number }>`SELECT id FROM parent`
      assert.deepStrictEqual(rows.map((r) => r.id), [1])
    }))
})
