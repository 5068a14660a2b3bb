/**
 * The embedded ledger: a SQLite file, nothing to install or start. The driver is libSQL's `libsql` package (the
 * better-sqlite3 API; its native binary ships prebuilt in npm packages, so nothing is compiled at install) under a
 * small `SqlClient` of this package: one connection, prepared statements cached, WAL with `synchronous = FULL`.
 * Meant for one worker at a time (several processes on one file work, serialised by SQLite's lock); use PostgreSQL
 * for several machines.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { LedgerError } from "./CampaignError.js"
import { toLedgerError } from "./internal/errors.js"
import { migrate } from "./internal/schema.js"
import * as Sqlite from "./internal/sqlite.js"
import * as Ledger from "./Ledger.js"

/**
 * Where the ledger's SQLite file is, and how long to wait for another process's lock.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The SQLite file (created if missing). */
  readonly filename: string
  /** How long a statement waits for a lock held by another process (default 5 seconds). */
  readonly busyTimeoutMillis?: number | undefined
}

/**
 * The ledger on a SQLite file, migrated. Fails with `LedgerError` when the file cannot be opened, is not a SQLite
 * database, or is locked.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Ledger.Ledger | SqlClient.SqlClient, LedgerError> =>
  Layer.scopedContext(Effect.gen(function*() {
    const busyTimeout = Math.max(0, Math.floor(options.busyTimeoutMillis ?? 5000))
    const sql = yield* Sqlite.make({
      filename: options.filename,
      // WAL with synchronous FULL: a commit is on disk when it returns (an intent must survive a power cut, not
      // only a crash of the process).
      pragmas: [`PRAGMA busy_timeout = ${busyTimeout}`, "PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL"]
    }).pipe(Effect.mapError(toLedgerError(`open the SQLite file ${JSON.stringify(options.filename)}`)))
    yield* migrate.pipe(
      Effect.provideService(SqlClient.SqlClient, sql),
      Effect.mapError(toLedgerError("create the ledger's tables"))
    )
    return Context.make(Ledger.Ledger, { sql, dialect: "sqlite" }).pipe(Context.add(SqlClient.SqlClient, sql))
  }))
