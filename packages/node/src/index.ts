/**
 * @since 0.1.0
 */

/**
 * The Kaleyra client for Node: `layer`, `layerConfig` (`KALEYRA_*` environment variables), `layerStock`.
 *
 * @since 0.1.0
 */
export * as KaleyraNode from "./KaleyraNode.js"

/**
 * Files from disk: `uploadFile`, `sendFile` (streamed with `fs.openAsBlob`), `FileError`.
 *
 * @since 0.1.0
 */
export * as NodeMedia from "./NodeMedia.js"

/**
 * The Kaleyra simulator served over HTTP on a local port.
 *
 * @since 0.1.0
 */
export * as SimulatorServer from "./SimulatorServer.js"

/**
 * A lean `HttpClient` straight on an undici `Dispatcher`.
 *
 * @since 0.1.0
 */
export * as UndiciHttpClient from "./UndiciHttpClient.js"

/**
 * The callback receiver: Kaleyra's status and incoming-message callbacks, checked and published to `KaleyraEvents`.
 *
 * @since 0.1.0
 */
export * as CallbackReceiver from "./CallbackReceiver.js"

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
