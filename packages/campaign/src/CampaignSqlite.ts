/**
 * The embedded ledger: a SQLite file, nothing to install or start (through `@effect/sql-libsql`, whose native
 * binary ships in npm packages). One worker per file.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { LedgerError } from "./CampaignError.js"
import type * as Ledger from "./Ledger.js"

/**
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
  Layer.effectContext(Effect.dieMessage(`TODO: CampaignSqlite.layer ${options.filename}`))
