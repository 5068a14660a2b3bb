/**
 * @since 0.1.0
 */

/**
 * Durable campaigns: create, run, resume, status, report, resend, delivery statuses.
 *
 * @since 0.1.0
 */
export * as Campaign from "./Campaign.js"

/**
 * The errors of the campaign functions.
 *
 * @since 0.1.0
 */
export * as CampaignError from "./CampaignError.js"

/**
 * The ledger on PostgreSQL, for several workers.
 *
 * @since 0.1.0
 */
export * as CampaignPg from "./CampaignPg.js"

/**
 * The ledger on a SQLite file (the default).
 *
 * @since 0.1.0
 */
export * as CampaignSqlite from "./CampaignSqlite.js"

/**
 * The ledger service, row states and refs.
 *
 * @since 0.1.0
 */
export * as Ledger from "./Ledger.js"
