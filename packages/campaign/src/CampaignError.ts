/**
 * The errors of the campaign ledger: one tagged class per cause, so that a caller (the CLI) can map each to an exit
 * code.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The database failed (it could not be opened, is corrupt or locked, refused the connection, or a write failed, e.g.
 * a full disk). `operation` says what the ledger was doing; `detail` is the driver's message (never a password).
 * A write that failed stops the run: no request is written after an intent that could not be committed.
 *
 * @since 0.1.0
 * @category errors
 */
export class LedgerError extends Schema.TaggedError<LedgerError>("@effect-kaleyra/campaign/LedgerError")(
  "LedgerError",
  {
    operation: Schema.String,
    detail: Schema.String,
    cause: Schema.optional(Schema.Defect)
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Campaign ledger failed (${this.operation}): ${this.detail}`
  }
}

/**
 * No campaign of this name in the ledger.
 *
 * @since 0.1.0
 * @category errors
 */
export class CampaignNotFound extends Schema.TaggedError<CampaignNotFound>("@effect-kaleyra/campaign/CampaignNotFound")(
  "CampaignNotFound",
  { name: Schema.String }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `No campaign named ${JSON.stringify(this.name)} in the ledger`
  }
}

/**
 * A campaign of this name exists with other rows (a different fingerprint, e.g. the CSV changed between runs):
 * nothing was imported or sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class CampaignMismatch extends Schema.TaggedError<CampaignMismatch>("@effect-kaleyra/campaign/CampaignMismatch")(
  "CampaignMismatch",
  { name: Schema.String, expected: Schema.String, actual: Schema.String }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Campaign ${JSON.stringify(this.name)} was created from other rows (fingerprint ${this.expected}, ` +
      `given ${this.actual}): refusing to mix them`
  }
}

/**
 * A row that cannot be stored as given (e.g. it sets `extraInfo.ref2`, which holds the row's campaign ref): the
 * import stops, and nothing is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRow extends Schema.TaggedError<InvalidRow>("@effect-kaleyra/campaign/InvalidRow")(
  "InvalidRow",
  { line: Schema.Number, reason: Schema.String }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Row at line ${this.line}: ${this.reason}`
  }
}

/**
 * Every error of the campaign functions.
 *
 * @since 0.1.0
 * @category errors
 */
export type CampaignError = LedgerError | CampaignNotFound | CampaignMismatch | InvalidRow
