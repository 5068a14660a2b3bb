/**
 * `withTransaction` for the ledger's SQL clients, whose every database failure is a `SqlError`: `@effect/sql`'s own
 * turns a failed COMMIT or ROLLBACK into a defect (`Effect.orDie`), so a full disk at commit or a locked file at
 * rollback would escape the ledger untyped instead of as a `LedgerError`.
 */
import * as Client from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"

const exec = (conn: Connection, sql: string) => conn.executeUnprepared(sql, [], undefined)

/** After a failure: roll back; a rollback that fails too adds its error after the first. */
const rollbackAfter = <A, E>(exit: Exit.Failure<A, E>, rollback: Effect.Effect<unknown, SqlError>) =>
  Effect.matchCauseEffect(rollback, {
    onFailure: (cause) => Effect.failCause(Cause.sequential(exit.cause, cause)),
    onSuccess: () => exit
  })

/**
 * Runs `effect` in a transaction on a connection from `acquire` (a savepoint inside another transaction), as
 * `@effect/sql` does, except that a failed BEGIN, COMMIT or ROLLBACK fails with its `SqlError`. A failed COMMIT is
 * followed by a ROLLBACK (SQLite keeps the transaction open after some failures, e.g. a busy file), whose own failure
 * is ignored: the commit's error is the one that counts.
 */
export const makeWithTransaction = (options: {
  readonly acquire: Effect.Effect<Connection, SqlError, Scope.Scope>
  readonly begin: string
}) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.serviceOption(Client.TransactionConnection), (outer) => {
      if (Option.isSome(outer)) {
        const [conn, depth] = outer.value
        const name = `effect_sql_${depth + 1}`
        return Effect.zipRight(
          exec(conn, `SAVEPOINT ${name}`),
          Effect.flatMap(
            Effect.exit(restore(Effect.provideService(effect, Client.TransactionConnection, [conn, depth + 1]))),
            (exit) => Exit.isSuccess(exit) ? exit : rollbackAfter(exit, exec(conn, `ROLLBACK TO SAVEPOINT ${name}`))
          )
        )
      }
      return Effect.flatMap(
        Scope.make(),
        (scope) =>
          Effect.flatMap(Scope.extend(options.acquire, scope), (conn) =>
            Effect.zipRight(
              exec(conn, options.begin),
              Effect.flatMap(
                Effect.exit(restore(Effect.provideService(effect, Client.TransactionConnection, [conn, 0]))),
                (exit) =>
                  Exit.isSuccess(exit)
                    ? Effect.zipRight(
                      Effect.catchAll(
                        exec(conn, "COMMIT"),
                        (error) => Effect.zipRight(Effect.ignore(exec(conn, "ROLLBACK")), Effect.fail(error))
                      ),
                      exit
                    )
                    : rollbackAfter(exit, exec(conn, "ROLLBACK"))
              )
            )).pipe(Effect.onExit((exit) => Scope.close(scope, exit)))
      )
    })
  ).pipe(Effect.withSpan("sql.transaction", { kind: "client", captureStackTrace: false }))
