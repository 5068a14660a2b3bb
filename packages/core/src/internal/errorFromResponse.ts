/**
 * Turning Kaleyra's HTTP answers into results or tagged errors.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import {
  ApiNotAvailable,
  DailyLimitReached,
  IncorrectCredentials,
  IncorrectPayload,
  type KaleyraResponseError,
  KaleyraServerError,
  LowBalance,
  PhoneNumberNotFound,
  PhoneNumberVersionMismatch,
  RateLimited,
  UnexpectedResponse,
  type UnexpectedResponseReason,
  UnknownKaleyraError
} from "../KaleyraError.js"
import type * as KaleyraTransport from "../KaleyraTransport.js"

/** @internal */
export const EXCERPT_LENGTH = 512

/** What the transport read of a response (the body `undefined` when it exceeded `KaleyraTransport.MAX_RESPONSE_BYTES`). */
export type RawResponse = KaleyraTransport.Response

type Json = unknown

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const excerptOf = (body: string | undefined): string => {
  if (body === undefined) return ""
  // Cut on a code point boundary so that the excerpt never ends in half a surrogate pair.
  const chars = Array.from(body.length > EXCERPT_LENGTH * 2 ? body.slice(0, EXCERPT_LENGTH * 2) : body)
  return chars.length > EXCERPT_LENGTH ? chars.slice(0, EXCERPT_LENGTH).join("") + "…" : chars.join("")
}

/**
 * A response that is not usable, as an `UnexpectedResponse` (its body cut to an excerpt).
 *
 * @internal
 */
export const unexpectedResponse = (
  raw: RawResponse,
  reason: UnexpectedResponseReason,
  body?: Json
): UnexpectedResponse =>
  new UnexpectedResponse({
    status: raw.status,
    reason,
    ...(raw.contentType !== undefined ? { contentType: raw.contentType } : {}),
    excerpt: excerptOf(raw.body),
    ...(body !== undefined ? { body } : {})
  }, { disableValidation: true })

/**
 * Parses a body as JSON, or says why it is not usable.
 *
 * @internal
 */
export const parseJson = (raw: RawResponse): Either.Either<Json, UnexpectedResponse> => {
  if (raw.body === undefined) return Either.left(unexpectedResponse(raw, "TooLarge"))
  try {
    return Either.right(JSON.parse(raw.body))
  } catch {
    // Only a body that did not parse can be blank (JSON.parse refuses one): trimmed only then.
    return Either.left(unexpectedResponse(raw, raw.body.trim() === "" ? "EmptyBody" : "InvalidJson"))
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const MONTH = MONTHS.join("|")
const DAY = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})"
/** RFC 9110's three HTTP-date forms, to the letter (case-sensitive, single spaces). */
const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`)
const RFC850_DATE = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`
)
const ASCTIME_DATE = new RegExp(`^(?:${DAY}) (${MONTH}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`)

/** The instant of a date, or `undefined` when a field is out of range (31 Feb, 25:00:00). */
const utc = (year: number, month: string, day: string, hour: string, minute: string, second: string) => {
  const m = MONTHS.indexOf(month)
  const d = Number(day)
  const h = Number(hour)
  const min = Number(minute)
  const s = Number(second)
  if (h > 23 || min > 59 || s > 60) return undefined
  // A leap second (60) is read as the second before it; the year is set apart, as `Date.UTC` reads 0-99 as 19xx.
  const date = new Date(Date.UTC(2000, 0, 1, h, min, Math.min(s, 59)))
  date.setUTCFullYear(year, m, d)
  return date.getUTCDate() === d && date.getUTCMonth() === m ? date.getTime() : undefined
}

/**
 * An HTTP-date (RFC 9110 section 5.6.7): IMF-fixdate, or one of the obsolete forms every recipient must accept
 * (rfc850-date, whose two-digit year more than 50 years ahead is read in the past century; asctime-date).
 */
const parseHttpDate = (value: string, now: number): number | undefined => {
  let match = IMF_FIXDATE.exec(value)
  if (match !== null) return utc(Number(match[3]), match[2], match[1], match[4], match[5], match[6])
  match = ASCTIME_DATE.exec(value)
  if (match !== null) return utc(Number(match[6]), match[1], match[2].trim(), match[3], match[4], match[5])
  match = RFC850_DATE.exec(value)
  if (match === null) return undefined
  const thisYear = new Date(now).getUTCFullYear()
  let year = thisYear - (thisYear % 100) + Number(match[3])
  if (year > thisYear + 50) year -= 100
  return utc(year, match[2], match[1], match[4], match[5], match[6])
}

/**
 * Parses a `Retry-After` header (RFC 9110 section 10.2.3): delay-seconds (digits only) or an HTTP-date, relative to
 * `now`. Anything else (`-1`, `1.5`, `+5`, two values `2, 3`, a date in another format) is ignored: `undefined`, so
 * the normal backoff applies.
 *
 * @internal
 */
export const parseRetryAfter = (header: string | undefined, now: number): Duration.Duration | undefined => {
  if (header === undefined) return undefined
  // Optional whitespace around a field value is SP or HTAB (RFC 9110 section 5.5).
  const value = header.replace(/^[ \t]+|[ \t]+$/g, "")
  if (/^\d+$/.test(value)) return Duration.seconds(Math.min(Number(value), 86_400))
  const date = parseHttpDate(value, now)
  if (date === undefined) return undefined
  return Duration.millis(Math.max(0, Math.min(date - now, 86_400_000)))
}

const stringOr = (u: unknown, fallback: string): string => typeof u === "string" ? u : fallback

/**
 * Maps a non-2xx answer to its tagged error.
 *
 * @internal
 */
export const errorFromResponse = (raw: RawResponse, now: number): KaleyraResponseError => {
  const parsed = parseJson(raw)
  const body = Either.isRight(parsed) && isRecord(parsed.right) ? parsed.right : undefined
  const code = body !== undefined && typeof body.code === "string" ? body.code.trim().toUpperCase() : undefined
  if (raw.status === 429) {
    const retryAfter = parseRetryAfter(raw.retryAfter, now)
    return new RateLimited({
      status: 429,
      ...(code !== undefined ? { code } : {}),
      message: stringOr(body?.message, "Too many requests"),
      ...(retryAfter !== undefined ? { retryAfter } : {})
    }, { disableValidation: true })
  }
  if (Either.isLeft(parsed)) return parsed.left
  if (body === undefined || code === undefined) return unexpectedResponse(raw, "NotKaleyra", parsed.right)
  const fields = {
    status: raw.status,
    code,
    message: stringOr(body.message, ""),
    error: isRecord(body.error) ? body.error : {}
  }
  const options = { disableValidation: true }
  switch (code) {
    case "RBC001":
      return new IncorrectCredentials(fields, options)
    case "WA401":
      return new PhoneNumberNotFound(fields, options)
    case "WA400":
      return new IncorrectPayload(fields, options)
    case "E110":
      return new LowBalance(fields, options)
    case "WAV2101":
      return new DailyLimitReached(fields, options)
    case "WA500":
      return new KaleyraServerError(fields, options)
    case "WA-401":
      // Two different failures share this code: the key of the error object tells them apart.
      if ("account" in fields.error) return new ApiNotAvailable(fields, options)
      if ("phone_number" in fields.error) return new PhoneNumberVersionMismatch(fields, options)
      return new UnknownKaleyraError(fields, options)
    default:
      return new UnknownKaleyraError(fields, options)
  }
}

/**
 * The first non-empty string found at one of the paths, in order.
 *
 * @internal
 */
export const findId = (body: unknown, paths: ReadonlyArray<ReadonlyArray<string | number>>): string | undefined => {
  for (const path of paths) {
    let cursor: unknown = body
    for (const key of path) {
      if (typeof key === "number") {
        cursor = Array.isArray(cursor) ? cursor[key] : undefined
      } else {
        cursor = isRecord(cursor) ? cursor[key] : undefined
      }
    }
    if (typeof cursor === "string" && cursor !== "") return cursor
    if (typeof cursor === "number" && Number.isSafeInteger(cursor)) return String(cursor)
  }
  return undefined
}

/** Where a send's message id may be, in order: Kaleyra's `data.message_id`, then Meta's `messages[0].id`. */
const MESSAGE_ID_PATHS = [["data", "message_id"], ["messages", 0, "id"], ["message_id"], ["id"]] as const

/**
 * A successful send's body: the message id (lenient), Kaleyra's code and message when present.
 *
 * @internal
 */
export const sendSuccessFromResponse = (
  raw: RawResponse
): Either.Either<
  { readonly messageId: string; readonly code?: string; readonly message?: string },
  UnexpectedResponse
> => {
  const parsed = parseJson(raw)
  if (Either.isLeft(parsed)) return Either.left(parsed.left)
  const messageId = findId(parsed.right, MESSAGE_ID_PATHS)
  if (messageId === undefined) return Either.left(unexpectedResponse(raw, "MissingId", parsed.right))
  // Assigned, not spread: a spread allocates an object per optional field.
  const success: { messageId: string; code?: string; message?: string } = { messageId }
  const body = parsed.right
  if (isRecord(body)) {
    if (typeof body.code === "string") success.code = body.code
    if (typeof body.message === "string") success.message = body.message
  }
  return Either.right(success)
}
