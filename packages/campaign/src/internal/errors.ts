import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import { LedgerError } from "../CampaignError.js"

/** The driver's own message (SqlError's is generic), on one line. */
export const describeCause = (cause: unknown): string => {
  const text = cause instanceof Error ? cause.message : String(cause)
  return text.replace(/\s+/g, " ").slice(0, 500)
}

export const toLedgerError =
  (operation: string) => (error: { readonly cause?: unknown; readonly message: string }): LedgerError =>
    new LedgerError({ operation, detail: describeCause(error.cause ?? error), cause: error.cause ?? error })

/** Maps a database failure to a `LedgerError` saying what the ledger was doing. */
export const ledgerOp = (operation: string) => <A, R>(effect: Effect.Effect<A, SqlError, R>) =>
  Effect.mapError(effect, toLedgerError(operation))
