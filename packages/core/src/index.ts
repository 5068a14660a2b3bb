/**
 * @since 0.1.0
 */

/**
 * Errors: one tagged class per Kaleyra outcome.
 *
 * @since 0.1.0
 */
export * from "./KaleyraError.js"

/**
 * The client service, its layers, and `sendMedia`.
 *
 * @since 0.1.0
 */
export {
  KaleyraClient,
  KaleyraObserver,
  layer,
  layerConfig,
  make,
  sendMedia,
  type SendMediaResult,
  type SendObserver,
  type Service,
  uploadMedia,
  type UploadMediaError,
  type UploadMediaInput,
  type UploadMediaResult
} from "./KaleyraClient.js"

/**
 * Media files: supported types and limits, type detection, the checks run before upload.
 *
 * @since 0.1.0
 */
export * as MediaFile from "./MediaFile.js"

/**
 * A file refused before upload.
 *
 * @since 0.1.0
 */
export { InvalidMedia } from "./MediaFile.js"

/**
 * Configuration: options, regions, `KALEYRA_*` environment variables.
 *
 * @since 0.1.0
 */
export * as KaleyraConfig from "./KaleyraConfig.js"

/**
 * Media messages: schemas, validation, wire format, builders (`MediaMessage.image`, ...).
 *
 * @since 0.1.0
 */
export * as MediaMessage from "./MediaMessage.js"

/**
 * The input of `sendMedia`.
 *
 * @since 0.1.0
 */
export type { SendMediaInput } from "./MediaMessage.js"
