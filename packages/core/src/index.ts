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
  type AttemptHooks,
  KaleyraClient,
  layer,
  layerConfig,
  make,
  sendMedia,
  type SendMediaResult,
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

/**
 * Events: what the client did and what Kaleyra reported back; callback decoding.
 *
 * @since 0.1.0
 */
export * as KaleyraEvent from "./KaleyraEvent.js"

/**
 * Event classes and callback decoding, by name.
 *
 * @since 0.1.0
 */
export {
  CallbackDecodeError,
  type CallbackEvent,
  decodeCallback,
  decodeCallbacks,
  IncomingMessage,
  type KaleyraEvent as KaleyraEventType,
  MediaUploaded,
  MessageStatusUpdated,
  RetryScheduled,
  SendAccepted,
  SendFailed
} from "./KaleyraEvent.js"

/**
 * The events service, `awaitStatus`.
 *
 * @since 0.1.0
 */
export { awaitStatus, AwaitStatusTimeout, KaleyraEvents, MessageFailed } from "./KaleyraEvents.js"

/**
 * Batch sending: `sendMediaBatch` and its results.
 *
 * @since 0.1.0
 */
export {
  type BatchOptions,
  type BatchResult,
  type BatchSummary,
  emptySummary,
  pacer,
  sendMediaBatch,
  summarize
} from "./Batch.js"

/**
 * The contract for transports that report `requestSent` and enforce timeouts natively.
 *
 * @since 0.1.0
 */
export * as HttpTransport from "./HttpTransport.js"
