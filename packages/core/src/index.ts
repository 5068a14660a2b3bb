/**
 * `@effect-kaleyra/core`: one namespace per module (`MediaMessage.image`, `Batch.summarize`, ...), and the fixed API
 * of the design (`sendMedia`, `uploadMedia`, `sendMediaBatch`, `KaleyraEvents`, `decodeCallback`, `awaitStatus`, the
 * event and error classes) by name. `KaleyraClient` and `KaleyraEvents` are their modules' service tags, whose
 * statics (`KaleyraClient.layer`, `KaleyraEvents.make`, ...) give the rest; their other types are on the modules'
 * own paths (`@effect-kaleyra/core/KaleyraClient`, `@effect-kaleyra/core/KaleyraEvents`).
 *
 * @since 0.1.0
 */

/**
 * Batch sending: `sendMediaBatch`, its options, results and summaries.
 *
 * @since 0.1.0
 */
export * as Batch from "./Batch.js"

/**
 * Why WhatsApp did not deliver a message, typed from Meta's codes (131047 outside the 24-hour window, template
 * errors, ...), on status events and synchronous errors.
 *
 * @since 0.2.0
 */
export * as FailureReason from "./FailureReason.js"

/**
 * The contract for transports that report `requestSent` and enforce timeouts natively.
 *
 * @since 0.1.0
 */
export * as KaleyraTransport from "./KaleyraTransport.js"

/**
 * What Kaleyra posts back: the callback payloads, the events they decode to, the decoder.
 *
 * @since 0.2.0
 */
export * as KaleyraCallback from "./KaleyraCallback.js"

/**
 * Configuration: options, regions, `KALEYRA_*` environment variables.
 *
 * @since 0.1.0
 */
export * as KaleyraConfig from "./KaleyraConfig.js"

/**
 * Errors: one tagged class per Kaleyra outcome, and which of them are retried.
 *
 * @since 0.2.0
 */
export * as KaleyraError from "./KaleyraError.js"

/**
 * Media files: supported types and limits, type detection, the checks run before upload.
 *
 * @since 0.1.0
 */
export * as MediaFile from "./MediaFile.js"

/**
 * Media messages: input schemas, validation, builders (`MediaMessage.image`, ...).
 *
 * @since 0.1.0
 */
export * as MediaMessage from "./MediaMessage.js"

/**
 * Upload-then-send: `sendMediaFile`, `fromUpload`, `SendMediaFileError`.
 *
 * @since 0.1.0
 */
export * as MediaUpload from "./MediaUpload.js"

/**
 * A rate limiter that spaces starts evenly, to share one sender number's limit between batches.
 *
 * @since 0.2.0
 */
export * as Pacer from "./Pacer.js"

/**
 * What goes on the wire when a message is sent: Kaleyra's request body as a schema, `toWire`, `toWireJson`.
 *
 * @since 0.2.0
 */
export * as SendMediaRequest from "./SendMediaRequest.js"

/**
 * The client service, `sendMedia` and `uploadMedia`.
 *
 * @since 0.1.0
 */
export {
  /**
   * The client service (`KaleyraClient.layer`, `KaleyraClient.layerConfig`, `KaleyraClient.make`).
   *
   * @since 0.1.0
   */
  KaleyraClient,
  /**
   * Sends one media or template message.
   *
   * @since 0.1.0
   */
  sendMedia,
  /**
   * What a send returns: the message id and the recipients.
   *
   * @since 0.1.0
   */
  type SendMediaResult,
  /**
   * Uploads a media file and returns its id.
   *
   * @since 0.1.0
   */
  uploadMedia,
  /**
   * How an upload fails.
   *
   * @since 0.1.0
   */
  type UploadMediaError,
  /**
   * What `uploadMedia` takes.
   *
   * @since 0.1.0
   */
  type UploadMediaInput,
  /**
   * What `uploadMedia` returns: the media id and the checked file.
   *
   * @since 0.1.0
   */
  type UploadMediaResult
} from "./KaleyraClient.js"

/**
 * The input of `sendMedia`.
 *
 * @since 0.1.0
 */
export {
  /**
   * The input of `sendMedia`: Meta's message object in camelCase.
   *
   * @since 0.1.0
   */
  type SendMediaInput
} from "./MediaMessage.js"

/**
 * Batch sending.
 *
 * @since 0.1.0
 */
export {
  /**
   * Sends many messages: one result per input, as a `Stream`.
   *
   * @since 0.1.0
   */
  sendMediaBatch
} from "./Batch.js"

/**
 * The events service, `awaitStatus` and the client's events.
 *
 * @since 0.1.0
 */
export {
  /**
   * Waits until a message reaches a status.
   *
   * @since 0.1.0
   */
  awaitStatus,
  /**
   * `awaitStatus` gave up: the status was not reached in time.
   *
   * @since 0.1.0
   */
  AwaitStatusTimeout,
  /**
   * Every event, in one stream.
   *
   * @since 0.1.0
   */
  type KaleyraEvent,
  /**
   * The events service: `events`, `subscribe`, `awaitStatus`, ...
   *
   * @since 0.1.0
   */
  KaleyraEvents,
  /**
   * A media file was uploaded.
   *
   * @since 0.1.0
   */
  MediaUploaded,
  /**
   * `awaitStatus` saw the message fail.
   *
   * @since 0.1.0
   */
  MessageFailed,
  /**
   * A retryable failure: the client will try again.
   *
   * @since 0.1.0
   */
  RetryScheduled,
  /**
   * Kaleyra accepted a send.
   *
   * @since 0.1.0
   */
  SendAccepted,
  /**
   * A send failed with a tagged error (after any retries).
   *
   * @since 0.1.0
   */
  SendFailed
} from "./KaleyraEvents.js"

/**
 * Callback decoding and the events Kaleyra reports back.
 *
 * @since 0.1.0
 */
export {
  /**
   * A payload that is not a Kaleyra callback.
   *
   * @since 0.1.0
   */
  CallbackDecodeError,
  /**
   * Decodes a callback payload into its first event.
   *
   * @since 0.1.0
   */
  decodeCallback,
  /**
   * A message a customer sent to the business number.
   *
   * @since 0.1.0
   */
  IncomingMessage,
  /**
   * A message's status changed (sent, delivered, read, failed).
   *
   * @since 0.1.0
   */
  MessageStatusUpdated
} from "./KaleyraCallback.js"

/**
 * The error classes, by name.
 *
 * @since 0.1.0
 */
export {
  /**
   * 401 `WA-401` with `error.account`: the API is not available to the account.
   *
   * @since 0.1.0
   */
  ApiNotAvailable,
  /**
   * `WAV2101`: the daily limit of the account is reached.
   *
   * @since 0.1.0
   */
  DailyLimitReached,
  /**
   * 401 `RBC001`: wrong SID or API key.
   *
   * @since 0.1.0
   */
  IncorrectCredentials,
  /**
   * 400 `WA400`: Kaleyra refused the request body.
   *
   * @since 0.1.0
   */
  IncorrectPayload,
  /**
   * The input failed validation; nothing was sent. Says which field and why.
   *
   * @since 0.1.0
   */
  InvalidMessage,
  /**
   * 500 `WA500`: retried by default.
   *
   * @since 0.1.0
   */
  KaleyraServerError,
  /**
   * 400 `E110`: the account's balance is too low.
   *
   * @since 0.1.0
   */
  LowBalance,
  /**
   * 401 `WA401`: the sender number is not on the account.
   *
   * @since 0.1.0
   */
  PhoneNumberNotFound,
  /**
   * 401 `WA-401` with `error.phone_number`.
   *
   * @since 0.1.0
   */
  PhoneNumberVersionMismatch,
  /**
   * HTTP 429 (with `retryAfter` when a `Retry-After` header came): retried by default.
   *
   * @since 0.1.0
   */
  RateLimited,
  /**
   * Every way a send fails.
   *
   * @since 0.1.0
   */
  type SendMediaError,
  /**
   * The request could not be made or answered (says whether it may have reached Kaleyra).
   *
   * @since 0.1.0
   */
  TransportError,
  /**
   * An answer that is not Kaleyra's (not JSON, an unknown shape, too large).
   *
   * @since 0.1.0
   */
  UnexpectedResponse,
  /**
   * Any other Kaleyra-shaped error body (keeps code, status, message, error object).
   *
   * @since 0.1.0
   */
  UnknownKaleyraError
} from "./KaleyraError.js"

/**
 * A file refused before upload.
 *
 * @since 0.1.0
 */
export {
  /**
   * A file refused before upload.
   *
   * @since 0.1.0
   */
  InvalidMedia
} from "./MediaFile.js"

/**
 * Upload-then-send's error.
 *
 * @since 0.1.0
 */
export {
  /**
   * Upload-then-send failed; says which step.
   *
   * @since 0.1.0
   */
  SendMediaFileError
} from "./MediaUpload.js"
