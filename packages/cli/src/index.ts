/**
 * @since 0.1.0
 */

/**
 * The `kaleyra-wa` command line: `send-media`, `campaign` (`run`, `status`, `report`, `resend`, `worker`) and
 * `callbacks`.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"

/**
 * CSV campaigns: reading recipients (with line numbers) and writing one result row per recipient.
 *
 * @since 0.1.0
 */
export * as CsvCampaign from "./CsvCampaign.js"

/**
 * CSV campaign files read as a stream, in constant memory whatever their size, invalid UTF-8 refused with its line.
 *
 * @since 0.2.0
 */
export * as CsvFile from "./CsvFile.js"

/**
 * The `kaleyra-wa campaign` commands on a ledger (`@effect-kaleyra/campaign`), and `kaleyra-wa callbacks`.
 *
 * @since 0.2.0
 */
export * as CampaignCli from "./CampaignCli.js"

/**
 * Campaign reports: CSV cells guarded against formulas, text safe for a terminal, files written atomically and
 * never over the input or the ledger.
 *
 * @since 0.2.0
 */
export * as CampaignReport from "./CampaignReport.js"

/**
 * How the `kaleyra-wa` process lets its heap grow: bounded, so that a large CSV's import and sends stay close to the
 * memory they need.
 *
 * @since 0.2.0
 */
export * as Heap from "./Heap.js"
