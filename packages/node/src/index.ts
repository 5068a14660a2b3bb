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
