/**
 * A `SqlClient` over one `libsql` connection (the better-sqlite3 API of libSQL, whose native binary ships in npm
 * packages): prepared statements cached, statements run synchronously one at a time, transactions with
 * `BEGIN IMMEDIATE`.
 *
 * Not `@effect/sql-libsql` 0.42: its `@libsql/client` opens a new connection after every transaction and never closes
 * the old one (two file descriptors and ~170 KB leaked per transaction, ~11 ms each), and has no busy timeout.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Client from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import Database from "libsql"
import { makeWithTransaction } from "./transaction.js"

type Db = InstanceType<typeof Database>
type Prepared = ReturnType<Db["prepare"]>

const CACHE_SIZE = 256

/** Values as SQLite takes them (booleans as 0/1, `undefined` as NULL). */
const toSql = (value: unknown): unknown =>
  typeof value === "boolean" ? (value ? 1 : 0) : value === undefined ? null : value

/**
 * Opens `filename` and builds a client on it (closed with the scope). `pragmas` run first, in order.
 */
export const make = (options: {
  readonly filename: string
  readonly pragmas: ReadonlyArray<string>
}): Effect.Effect<Client.SqlClient, SqlError, Scope.Scope> =>
  Effect.gen(function*() {
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => new Database(options.filename),
        catch: (cause) => new SqlError({ cause, message: "Failed to open the database" })
      }),
      (db) => Effect.sync(() => db.close())
    )
    // Statements by SQL text, the least recently used dropped first.
    const cache = new Map<string, Prepared>()
    const prepare = (sql: string): Prepared => {
      let statement = cache.get(sql)
      if (statement !== undefined) {
        cache.delete(sql)
      } else {
        statement = db.prepare(sql)
        if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string)
      }
      cache.set(sql, statement)
      return statement
    }
    const run = (sql: string, params: ReadonlyArray<unknown>, raw: boolean): ReadonlyArray<unknown> => {
      const statement = prepare(sql)
      const args = params.map(toSql)
      if (statement.reader) return statement.raw(raw).all(args)
      statement.run(args)
      return []
    }
    const attempt = <A>(sql: string, f: () => A): Effect.Effect<A, SqlError> =>
      Effect.try({
        try: f,
        catch: (cause) => new SqlError({ cause, message: `Failed to execute statement: ${sql.slice(0, 60)}` })
      })
    for (const pragma of options.pragmas) {
      yield* attempt(pragma, () => run(pragma, [], false))
    }

    const connection: Connection = {
      execute: (sql, params, transformRows) =>
        attempt(sql, () => {
          const rows = run(sql, params, false) as ReadonlyArray<object>
          return transformRows === undefined ? rows : transformRows(rows)
        }),
      executeRaw: (sql, params) => attempt(sql, () => run(sql, params, false)),
      executeValues: (sql, params) =>
        attempt(sql, () => run(sql, params, true) as ReadonlyArray<ReadonlyArray<unknown>>),
      executeUnprepared: (sql, params, transformRows) =>
        attempt(sql, () => {
          const rows = db.prepare(sql).all(params.map(toSql)) as ReadonlyArray<object>
          return transformRows === undefined ? rows : transformRows(rows)
        }),
      executeStream: () => Stream.dieMessage("executeStream is not implemented")
    }

    // One statement or transaction at a time on the connection: a statement holds the permit until it is done, a
    // transaction until it commits or rolls back (its own statements go through the transaction's connection).
    const semaphore = yield* Effect.makeSemaphore(1)
    const acquirer = Effect.uninterruptibleMask((restore) =>
      Effect.as(
        Effect.zipRight(
          restore(semaphore.take(1)),
          Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, semaphore.release(1)))
        ),
        connection
      )
    )
    const client = yield* Client.make({
      acquirer,
      transactionAcquirer: acquirer,
      compiler: Statement.makeCompilerSqlite(),
      spanAttributes: [["db.system.name", "sqlite"]],
      beginTransaction: "BEGIN IMMEDIATE"
    }).pipe(Effect.provide(Reactivity.layer))
    // a failed COMMIT (a full disk) or ROLLBACK is a SqlError, not a defect
    return Object.assign(client, {
      withTransaction: makeWithTransaction({ acquire: acquirer, begin: "BEGIN IMMEDIATE" })
    })
  })
