/**
 * The campaign ledger: the SQL tables (created by `@effect/sql`'s `Migrator`) that hold every campaign row and its
 * state, on a SQLite file (one worker) or PostgreSQL (several workers).
 *
 * A row moves `Pending` -> `Sending` (committed before any byte of its request is written) -> `Sent` (with
 * Kaleyra's message id) | `Failed` (an error that proves Kaleyra did not accept it) | `Ambiguous` (its request may
 * have reached Kaleyra). A `Sending` row whose worker died becomes `Ambiguous`: it is never sent again
 * automatically.
 *
 * @since 0.1.0
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"

/**
 * The state of a campaign row.
 *
 * - `Pending`: never started (or started and refused before any byte was written): safe to send.
 * - `Sending`: its intent is committed and its outcome is not: its request may be on the wire. Only while a worker
 *   runs; a `Sending` row left by a dead worker becomes `Ambiguous`.
 * - `Sent`: Kaleyra accepted it (the row has the message id).
 * - `Failed`: an error that proves Kaleyra did not accept it (the row has the tagged error).
 * - `Ambiguous`: its request may have reached Kaleyra (a timeout or reset after writing, a 2xx without a message
 *   id, or a crash between intent and outcome). Resolved to `Sent` by a status callback carrying its ref; otherwise
 *   sent again only by `Campaign.resendAmbiguous`, after a person checked.
 *
 * @since 0.1.0
 * @category models
 */
export const RowState = Schema.Literal("Pending", "Sending", "Sent", "Failed", "Ambiguous")

/**
 * The state of a campaign row (see the schema `RowState`).
 *
 * @since 0.1.0
 * @category models
 */
export type RowState = typeof RowState.Type

/**
 * Every row state, in the order reports list them.
 *
 * @since 0.1.0
 * @category models
 */
export const rowStates: ReadonlyArray<RowState> = RowState.literals

/**
 * The SQL dialect of the ledger's database.
 *
 * @since 0.1.0
 * @category models
 */
export type Dialect = "sqlite" | "pg"

/**
 * The ledger service: the SQL client the ledger's tables live in (migrated) and its dialect. Provided by
 * `CampaignSqlite.layer` or `CampaignPg.layer` (or `layer` over a `SqlClient` of your own).
 *
 * @since 0.1.0
 * @category services
 */
export class Ledger extends Context.Tag("@effect-kaleyra/campaign/Ledger")<Ledger, {
  readonly sql: SqlClient.SqlClient
  readonly dialect: Dialect
}>() {}

/**
 * The ref of a campaign row: unique to the campaign (its random token) and the row (its position), sent in
 * `extra_info.ref2` so that status callbacks can be joined to the row even when its message id is unknown (an
 * `Ambiguous` row). `ref` and `ref1` stay the user's.
 *
 * @since 0.1.0
 * @category refs
 */
export const rowRef = (token: string, seq: number): string => `${token}-${seq}`

/**
 * Reads a ref made by `rowRef` (`undefined` for any other string).
 *
 * @since 0.1.0
 * @category refs
 */
export const parseRowRef = (ref: string): { readonly token: string; readonly seq: number } | undefined => {
  const match = /^(kc[0-9a-z]{10})-(0|[1-9][0-9]{0,14})$/.exec(ref)
  return match === null ? undefined : { token: match[1], seq: Number(match[2]) }
}
