/**
 * The ledger on PostgreSQL (`@effect/sql-pg`), for several workers on several machines: rows claimed in chunks
 * (`FOR UPDATE SKIP LOCKED` with a lease) and one rate limit per sender number shared by every worker.
 *
 * @since 0.1.0
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type { LedgerError } from "./CampaignError.js"
import { toLedgerError } from "./internal/errors.js"
import { migrate } from "./internal/schema.js"
import { makeWithTransaction } from "./internal/transaction.js"
import * as Ledger from "./Ledger.js"

/**
 * The PostgreSQL server of the ledger, and the size of the connection pool.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `postgres://user:password@host:port/database` (redacted: it may hold a password). */
  readonly url: Redacted.Redacted<string>
  /** Connections in the pool (default 4). */
  readonly maxConnections?: number | undefined
}

/**
 * The ledger on PostgreSQL, migrated. Fails with `LedgerError` when the server refuses or cannot be reached.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Ledger.Ledger | SqlClient.SqlClient, LedgerError> => {
  const ledger = Layer.effectContext(Effect.gen(function*() {
    const pg = yield* SqlClient.SqlClient
    // transactions on the pool's connections whose failed COMMIT or ROLLBACK (a connection lost) is a SqlError, not
    // the defect of @effect/sql's withTransaction (the client is a function: its own, not a copy, is given them)
    const sql = Object.assign(pg, { withTransaction: makeWithTransaction({ acquire: pg.reserve, begin: "BEGIN" }) })
    // the Migrator locks its table: workers starting together migrate once
    yield* Effect.mapError(migrate, toLedgerError("create the ledger's tables"))
    return Context.make(Ledger.Ledger, { sql, dialect: "pg" })
  }))
  const client = PgClient.layer({
    url: options.url,
    maxConnections: options.maxConnections ?? 4,
    connectTimeout: "10 seconds",
    applicationName: "effect-kaleyra-campaign"
  }).pipe(Layer.mapError(toLedgerError("connect to PostgreSQL")))
  return Layer.provideMerge(ledger, client)
}
