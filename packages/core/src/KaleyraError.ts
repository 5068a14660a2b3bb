/**
 * One tagged error per outcome of a Kaleyra call.
 *
 * Every error carries what a person needs to act on it (HTTP status, Kaleyra's code and message,
 * Kaleyra's `error` object) and never the API key: errors are built from the response alone, and
 * transport failures keep a one-line description of their cause, never the request. How an answer becomes one of
 * them: `internal/errorFromResponse.ts` (status and Kaleyra code to class), `internal/transport.ts` (a transport
 * failure to `TransportError`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as FailureReason from "./FailureReason.js"

const KaleyraErrorObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * The fields shared by every error that Kaleyra itself answered with (a Kaleyra-shaped JSON body).
 *
 * @since 0.1.0
 * @category models
 */
export const KaleyraResponseFields = {
  /** The HTTP status of Kaleyra's answer. */
  status: Schema.Number,
  /** Kaleyra's `code`, e.g. `E110`. */
  code: Schema.String,
  /** Kaleyra's human-readable `message`. */
  message: Schema.String,
  /** Kaleyra's `error` object (`{ "balance": "..." }`); `{}` when the body had none. */
  error: KaleyraErrorObject
}

/**
 * The input failed validation: no request was sent. `field` names the first failing field (a path such as
 * `image.caption` or `to[1]`, or `input` for the input as a whole), `reason` says why, and `issues` lists the
 * failures found, one per field. Its size is bounded whatever the input: at most 20 issues, a `field` or `reason` of
 * at most 300 characters, a value quoted by an excerpt of at most 40.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidMessage extends Schema.TaggedError<InvalidMessage>("@effect-kaleyra/core/InvalidMessage")(
  "InvalidMessage",
  {
    field: Schema.String,
    reason: Schema.String,
    issues: Schema.Array(Schema.Struct({ field: Schema.String, reason: Schema.String }))
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const more = this.issues.length > 1 ? ` (and ${this.issues.length - 1} more issue(s))` : ""
    return `Invalid message: ${this.field}: ${this.reason}${more}`
  }

  /**
   * Builds an `InvalidMessage` for a single field.
   *
   * @since 0.1.0
   */
  static of(field: string, reason: string): InvalidMessage {
    return new InvalidMessage({ field, reason, issues: [{ field, reason }] }, { disableValidation: true })
  }
}

/**
 * 401 `RBC001`: the SID or the API key is wrong. Not retried: fix the credentials.
 *
 * @since 0.1.0
 * @category errors
 */
export class IncorrectCredentials
  extends Schema.TaggedError<IncorrectCredentials>("@effect-kaleyra/core/IncorrectCredentials")(
    "IncorrectCredentials",
    KaleyraResponseFields
  )
{}

/**
 * 401 `WA401`: the sender number is not present or does not belong to the account.
 *
 * @since 0.1.0
 * @category errors
 */
export class PhoneNumberNotFound
  extends Schema.TaggedError<PhoneNumberNotFound>("@effect-kaleyra/core/PhoneNumberNotFound")(
    "PhoneNumberNotFound",
    KaleyraResponseFields
  )
{}

/**
 * 400 `WA400`: Kaleyra refused the payload's format.
 *
 * @since 0.1.0
 * @category errors
 */
export class IncorrectPayload extends Schema.TaggedError<IncorrectPayload>("@effect-kaleyra/core/IncorrectPayload")(
  "IncorrectPayload",
  KaleyraResponseFields
) {}

/**
 * 400 `E110`: the account's balance is too low. Top up, then send again.
 *
 * @since 0.1.0
 * @category errors
 */
export class LowBalance extends Schema.TaggedError<LowBalance>("@effect-kaleyra/core/LowBalance")(
  "LowBalance",
  KaleyraResponseFields
) {}

/**
 * 401 `WA-401` with `error.account`: the API is not available for this account (for uploads: a prepaid
 * account; send by `link` instead).
 *
 * @since 0.1.0
 * @category errors
 */
export class ApiNotAvailable extends Schema.TaggedError<ApiNotAvailable>("@effect-kaleyra/core/ApiNotAvailable")(
  "ApiNotAvailable",
  KaleyraResponseFields
) {}

/**
 * 401 `WA-401` with `error.phone_number`: the sender number belongs to another version of Kaleyra's WhatsApp API.
 *
 * @since 0.1.0
 * @category errors
 */
export class PhoneNumberVersionMismatch
  extends Schema.TaggedError<PhoneNumberVersionMismatch>("@effect-kaleyra/core/PhoneNumberVersionMismatch")(
    "PhoneNumberVersionMismatch",
    KaleyraResponseFields
  )
{}

/**
 * `WAV2101`: the account's daily sending limit is reached.
 *
 * @since 0.1.0
 * @category errors
 */
export class DailyLimitReached extends Schema.TaggedError<DailyLimitReached>("@effect-kaleyra/core/DailyLimitReached")(
  "DailyLimitReached",
  KaleyraResponseFields
) {}

/**
 * 500 `WA500`: Kaleyra failed internally and did not accept the message. Retried by default.
 *
 * @since 0.1.0
 * @category errors
 */
export class KaleyraServerError
  extends Schema.TaggedError<KaleyraServerError>("@effect-kaleyra/core/KaleyraServerError")(
    "KaleyraServerError",
    KaleyraResponseFields
  )
{}

/**
 * HTTP 429: too many requests. `retryAfter` is set when a `Retry-After` header came; `code` and `message` are
 * Kaleyra's when its body was Kaleyra-shaped. Retried by default, honouring `Retry-After`.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>("@effect-kaleyra/core/RateLimited")(
  "RateLimited",
  {
    status: Schema.Number,
    code: Schema.optional(Schema.String),
    message: Schema.String,
    retryAfter: Schema.optional(Schema.DurationFromSelf)
  }
) {}

/**
 * Any other Kaleyra-shaped error body (a JSON object with a `code`), kept whole.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownKaleyraError
  extends Schema.TaggedError<UnknownKaleyraError>("@effect-kaleyra/core/UnknownKaleyraError")(
    "UnknownKaleyraError",
    KaleyraResponseFields
  )
{
  /**
   * The typed reason when Kaleyra answered with one of Meta's codes (131047, 1320xx, ...), as a status callback's.
   *
   * @since 0.2.0
   */
  get failureReason(): FailureReason.FailureReason | undefined {
    return FailureReason.fromError(this)
  }
}

/**
 * Why a response was not usable.
 *
 * - `EmptyBody`: no body at all.
 * - `InvalidJson`: the body is not JSON (an HTML gateway page, truncated JSON).
 * - `NotKaleyra`: JSON, but not of Kaleyra's shape.
 * - `TooLarge`: the body exceeded the size the client reads (it was not read whole).
 * - `MissingId`: a 2xx whose body names no message or media id.
 * - `BodyReadFailed`: the status arrived but the connection failed while the body was read.
 *
 * @since 0.1.0
 * @category models
 */
export const UnexpectedResponseReason = Schema.Literal(
  "EmptyBody",
  "InvalidJson",
  "NotKaleyra",
  "TooLarge",
  "MissingId",
  "BodyReadFailed"
)

/**
 * Why a response was not one of Kaleyra's.
 *
 * @since 0.1.0
 * @category models
 */
export type UnexpectedResponseReason = typeof UnexpectedResponseReason.Type

/**
 * A response that is not Kaleyra's: an HTML gateway page, bad JSON, an empty body. Keeps the status, the
 * content type and a short excerpt (at most 512 characters), plus the parsed body when it was JSON.
 *
 * `accepted` is `true` when the status was 2xx: Kaleyra accepted the request, so the message was probably
 * sent. Such an error is never retried; do not send it again, correlate by `ref` instead.
 * Retried by default only for status 503.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedResponse
  extends Schema.TaggedError<UnexpectedResponse>("@effect-kaleyra/core/UnexpectedResponse")(
    "UnexpectedResponse",
    {
      status: Schema.Number,
      reason: UnexpectedResponseReason,
      contentType: Schema.optional(Schema.String),
      excerpt: Schema.String,
      body: Schema.optional(Schema.Unknown)
    }
  )
{
  /**
   * Whether Kaleyra answered 2xx, i.e. accepted the request.
   *
   * @since 0.1.0
   */
  get accepted(): boolean {
    return this.status >= 200 && this.status < 300
  }

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const head = `Unexpected response from Kaleyra (HTTP ${this.status}, ${this.reason})`
    const tail = this.accepted ? ": the request was accepted, do not send it again" : ""
    return this.excerpt === "" ? head + tail : `${head}${tail}: ${JSON.stringify(this.excerpt)}`
  }
}

/**
 * Why no response arrived.
 *
 * @since 0.1.0
 * @category models
 */
export const TransportErrorReason = Schema.Literal(
  "ConnectionRefused",
  "DnsFailure",
  "ConnectionReset",
  "Timeout",
  "Other"
)

/**
 * Why no response arrived.
 *
 * @since 0.1.0
 * @category models
 */
export type TransportErrorReason = typeof TransportErrorReason.Type

/**
 * No response: connection refused, reset, timeout. `mayHaveReachedKaleyra` says whether the request may have
 * been received (and the message sent): when `false` no byte of the request can have been written, and the
 * client retried it; when `true` the outcome is unknown and the client did not retry, so that nothing is sent
 * twice. `detail` describes the cause in one line (never the request or its headers).
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@effect-kaleyra/core/TransportError")(
  "TransportError",
  {
    reason: TransportErrorReason,
    mayHaveReachedKaleyra: Schema.Boolean,
    detail: Schema.String
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const fate = this.mayHaveReachedKaleyra
      ? "the request may have reached Kaleyra"
      : "the request did not reach Kaleyra"
    return `Transport failure (${this.reason}, ${fate}): ${this.detail}`
  }
}

/**
 * An error that Kaleyra answered with, as opposed to one found before sending or in transport.
 *
 * @since 0.1.0
 * @category errors
 */
export type KaleyraResponseError =
  | IncorrectCredentials
  | PhoneNumberNotFound
  | IncorrectPayload
  | LowBalance
  | ApiNotAvailable
  | PhoneNumberVersionMismatch
  | DailyLimitReached
  | KaleyraServerError
  | RateLimited
  | UnknownKaleyraError
  | UnexpectedResponse

/**
 * The error channel of `sendMedia`: exactly these classes.
 *
 * @since 0.1.0
 * @category errors
 */
export type SendMediaError = InvalidMessage | KaleyraResponseError | TransportError

/**
 * The schema of every error `sendMedia` can fail with (useful to serialise results, e.g. in batch reports).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SendMediaError: Schema.Union<[
  typeof InvalidMessage,
  typeof IncorrectCredentials,
  typeof PhoneNumberNotFound,
  typeof IncorrectPayload,
  typeof LowBalance,
  typeof ApiNotAvailable,
  typeof PhoneNumberVersionMismatch,
  typeof DailyLimitReached,
  typeof KaleyraServerError,
  typeof RateLimited,
  typeof UnknownKaleyraError,
  typeof UnexpectedResponse,
  typeof TransportError
]> = Schema.Union(
  InvalidMessage,
  IncorrectCredentials,
  PhoneNumberNotFound,
  IncorrectPayload,
  LowBalance,
  ApiNotAvailable,
  PhoneNumberVersionMismatch,
  DailyLimitReached,
  KaleyraServerError,
  RateLimited,
  UnknownKaleyraError,
  UnexpectedResponse,
  TransportError
)

/**
 * Whether the client's default policy retries this error: only outcomes that prove the message was not
 * accepted (`WA500`, 429, a 503 page, a connection that never carried the request).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: SendMediaError): boolean => {
  switch (error._tag) {
    case "KaleyraServerError":
    case "RateLimited":
      return true
    case "UnexpectedResponse":
      return error.status === 503
    case "TransportError":
      return !error.mayHaveReachedKaleyra
    default:
      return false
  }
}
