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
  /**
   * @since 0.1.0
   */
  type AttemptHooks,
  /**
   * @since 0.1.0
   */
  KaleyraClient,
  /**
   * @since 0.1.0
   */
  layer,
  /**
   * @since 0.1.0
   */
  layerConfig,
  /**
   * @since 0.1.0
   */
  make,
  /**
   * @since 0.1.0
   */
  sendMedia,
  /**
   * @since 0.1.0
   */
  type SendMediaResult,
  /**
   * @since 0.1.0
   */
  type Service,
  /**
   * @since 0.1.0
   */
  uploadMedia,
  /**
   * @since 0.1.0
   */
  type UploadMediaError,
  /**
   * @since 0.1.0
   */
  type UploadMediaInput,
  /**
   * @since 0.1.0
   */
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
export {
  /**
   * @since 0.1.0
   */
  InvalidMedia
} from "./MediaFile.js"

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
export type {
  /**
   * @since 0.1.0
   */
  SendMediaInput
} from "./MediaMessage.js"

/**
 * Events: what the client did and what Kaleyra reported back; callback decoding.
 *
 * @since 0.1.0
 */
export * as KaleyraEvent from "./KaleyraEvent.js"

/**
 * Why WhatsApp did not deliver a message, typed from Meta's codes (131047 outside the 24-hour window, template
 * errors, ...), on status events and synchronous errors.
 *
 * @since 0.2.0
 */
export * as FailureReason from "./FailureReason.js"

/**
 * Event classes and callback decoding, by name.
 *
 * @since 0.1.0
 */
export {
  /**
   * @since 0.1.0
   */
  CallbackDecodeError,
  /**
   * @since 0.1.0
   */
  type CallbackEvent,
  /**
   * @since 0.1.0
   */
  decodeCallback,
  /**
   * @since 0.1.0
   */
  decodeCallbackEntries,
  /**
   * @since 0.1.0
   */
  decodeCallbacks,
  /**
   * @since 0.1.0
   */
  type DecodedCallback,
  /**
   * @since 0.1.0
   */
  IncomingMessage,
  /**
   * @since 0.1.0
   */
  type KaleyraEvent as KaleyraEventType,
  /**
   * @since 0.1.0
   */
  MediaUploaded,
  /**
   * @since 0.1.0
   */
  MessageStatusUpdated,
  /**
   * @since 0.1.0
   */
  RetryScheduled,
  /**
   * @since 0.1.0
   */
  SendAccepted,
  /**
   * @since 0.1.0
   */
  SendFailed
} from "./KaleyraEvent.js"

/**
 * The events service, `awaitStatus`.
 *
 * @since 0.1.0
 */
export {
  /**
   * @since 0.1.0
   */
  awaitStatus,
  /**
   * @since 0.1.0
   */
  AwaitStatusTimeout,
  /**
   * @since 0.1.0
   */
  KaleyraEvents,
  /**
   * @since 0.1.0
   */
  MessageFailed
} from "./KaleyraEvents.js"

/**
 * Batch sending: `sendMediaBatch` and its results.
 *
 * @since 0.1.0
 */
export {
  /**
   * @since 0.1.0
   */
  type BatchOptions,
  /**
   * @since 0.1.0
   */
  type BatchResult,
  /**
   * @since 0.1.0
   */
  type BatchSummary,
  /**
   * @since 0.1.0
   */
  emptySummary,
  /**
   * @since 0.1.0
   */
  type NotAttemptedReason,
  /**
   * @since 0.1.0
   */
  pacer,
  /**
   * @since 0.1.0
   */
  sendMediaBatch,
  /**
   * @since 0.1.0
   */
  summarize
} from "./Batch.js"

/**
 * The contract for transports that report `requestSent` and enforce timeouts natively.
 *
 * @since 0.1.0
 */
export * as KaleyraTransport from "./KaleyraTransport.js"

/**
 * Upload-then-send: `sendMediaFile`, `fromUpload`, `SendMediaFileError`.
 *
 * @since 0.1.0
 */
export * as MediaUpload from "./MediaUpload.js"

/**
 * Upload a file, then send it by id; failures name the step.
 *
 * @since 0.1.0
 */
export {
  /**
   * @since 0.1.0
   */
  fromUpload,
  /**
   * @since 0.1.0
   */
  sendMediaFile,
  /**
   * @since 0.1.0
   */
  SendMediaFileError,
  /**
   * @since 0.1.0
   */
  type SendMediaFileInput,
  /**
   * @since 0.1.0
   */
  type SendMediaFileResult
} from "./MediaUpload.js"
