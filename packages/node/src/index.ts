/**
 * The Kaleyra client for Node. The callback receiver is a subpath of its own (`@effect-kaleyra/node/CallbackReceiver`),
 * so that a program that only sends does not load an HTTP server.
 *
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
 * A lean `HttpClient` straight on an undici `Dispatcher`.
 *
 * @since 0.1.0
 */
export * as UndiciHttpClient from "./UndiciHttpClient.js"

/**
 * The lean `KaleyraTransport` on an undici `Dispatcher` that `KaleyraNode.layer` sends through: one dispatch per send or
 * upload, the deadline enforced in the dispatch.
 *
 * @since 0.1.0
 */
export * as UndiciTransport from "./UndiciTransport.js"
