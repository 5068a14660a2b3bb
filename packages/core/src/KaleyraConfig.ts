/**
 * The client's configuration: account, region or base URL, timeouts and retries; from code or from `KALEYRA_*`
 * environment variables.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/**
 * Kaleyra's pods.
 *
 * @since 0.1.0
 * @category constants
 */
export const regions = ["IN", "SG", "EU", "NA"] as const

/**
 * A Kaleyra pod: `IN`, `SG`, `EU` or `NA`.
 *
 * @since 0.1.0
 * @category models
 */
export type Region = typeof regions[number]

/**
 * The API host of each pod (the seed's table for IN, SG and EU; NA from Kaleyra's other pages). Use `baseUrl` when
 * your account lives elsewhere.
 *
 * @since 0.1.0
 * @category constants
 */
export const regionHosts: Readonly<Record<Region, string>> = {
  IN: "https://api.in.kaleyra.io",
  SG: "https://api.ap.kaleyra.io",
  EU: "https://api.eu.kaleyra.io",
  NA: "https://api.na.kaleyra.ai"
}

/**
 * Options of the Kaleyra client.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Account SID, e.g. `HXAP16XXXXXX97IN`. */
  readonly sid: string
  /** The API key; it is only unwrapped to set the `api-key` header. */
  readonly apiKey: Redacted.Redacted
  /** The business (sender) WhatsApp number registered with Kaleyra, e.g. `919999999999`. */
  readonly senderNumber: string
  /** The pod: `IN` (default when neither this nor `baseUrl` is given), `SG`, `EU` or `NA`. */
  readonly region?: Region | undefined
  /** Overrides the region's host, e.g. `http://127.0.0.1:4010` for a local simulator. */
  readonly baseUrl?: string | undefined
  /** Timeout of each attempt (default 30 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** How many times a retryable failure is retried (default 2; 0 turns retries off). */
  readonly maxRetries?: number | undefined
  /** First backoff delay; each retry doubles it, with jitter (default 500 ms). */
  readonly retryBaseDelay?: Duration.DurationInput | undefined
  /** A 429 whose `Retry-After` asks for longer than this is returned instead of waited for (default 60 s). */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
  /**
   * A hook on an `HttpClient` (logging, proxies, extra headers): it wraps the transport's `httpClient`, and the client
   * then sends through the generic transport over the result (`KaleyraTransport.fromHttpClient`).
   */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * Options after validation, with defaults applied. Holds no secret but the redacted key.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolved {
  readonly sid: string
  readonly apiKey: Redacted.Redacted
  readonly senderNumber: string
  readonly baseUrl: string
  readonly timeout: Duration.Duration
  readonly maxRetries: number
  readonly retryBaseDelay: Duration.Duration
  readonly maxRetryAfter: Duration.Duration
  /** `{baseUrl}/v2/{sid}/whatsapp/{senderNumber}`, each path segment percent-encoded. */
  readonly accountUrl: string
}

const SID = /^[A-Za-z0-9_-]{1,128}$/

const invalid = (path: string, message: string) => ConfigError.InvalidData([path], message)

/**
 * An HTTP header value carries Latin-1 only, and a control character (a tab included) is either refused by the
 * transport or altered on the way: such a key could never authenticate, so it is refused before any send.
 */

const UNSENDABLE = /[^\x20-\x7e\xa0-\xff]/

const API_KEY_RULE =
  "must be a non-empty string of printable Latin-1 characters (no control character, no character above U+00FF)"

const isSendableKey = (key: unknown): boolean => typeof key === "string" && key.length > 0 && !UNSENDABLE.test(key)

const checkSid = (sid: unknown): Either.Either<string, ConfigError.ConfigError> =>
  typeof sid === "string" && SID.test(sid)
    ? Either.right(sid)
    : Either.left(invalid("sid", "must be 1 to 128 letters, digits, '-' or '_' (e.g. HXAP16XXXXXX97IN)"))

const checkSender = (sender: unknown): Either.Either<string, ConfigError.ConfigError> => {
  if (typeof sender !== "string") return Either.left(invalid("senderNumber", "must be a string"))
  const digits = sender.replace(/[ .()-]/g, "").replace(/^\+/, "")
  return /^[1-9][0-9]{7,14}$/.test(digits)
    ? Either.right(digits)
    : Either.left(invalid("senderNumber", "must be the business number with its country code: 8 to 15 digits"))
}

const checkBaseUrl = (
  baseUrl: string | undefined,
  region: unknown
): Either.Either<string, ConfigError.ConfigError> => {
  if (baseUrl === undefined) {
    if (region === undefined) return Either.right(regionHosts.IN)
    return typeof region === "string" && (regions as ReadonlyArray<string>).includes(region)
      ? Either.right(regionHosts[region as Region])
      : Either.left(invalid("region", `must be one of ${regions.join(", ")}`))
  }
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    return Either.left(invalid("baseUrl", "must be an absolute http(s) URL"))
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Either.left(invalid("baseUrl", "must use http or https"))
  }
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    return Either.left(invalid("baseUrl", "must not hold credentials, a query or a fragment"))
  }
  return Either.right(url.origin + url.pathname.replace(/\/+$/, ""))
}

const checkDuration = (
  name: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration
): Either.Either<Duration.Duration, ConfigError.ConfigError> => {
  if (input === undefined) return Either.right(fallback)
  const decoded = Duration.decodeUnknown(input)
  return Option.isSome(decoded) && Duration.isFinite(decoded.value) && Duration.toMillis(decoded.value) > 0
    ? Either.right(decoded.value)
    : Either.left(invalid(name, "must be a positive, finite duration"))
}

/**
 * Validates options and applies the defaults. The SID and sender number are checked and percent-encoded, so no
 * value can change the request path.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (options: Options): Either.Either<Resolved, ConfigError.ConfigError> =>
  Either.gen(function*() {
    if (typeof options !== "object" || options === null) return yield* Either.left(invalid("", "options are required"))
    const sid = yield* checkSid(options.sid)
    const senderNumber = yield* checkSender(options.senderNumber)
    if (!Redacted.isRedacted(options.apiKey)) {
      return yield* Either.left(invalid("apiKey", "must be a Redacted value (Redacted.make(key))"))
    }
    if (!isSendableKey(Redacted.value(options.apiKey))) return yield* Either.left(invalid("apiKey", API_KEY_RULE))
    const baseUrl = yield* checkBaseUrl(options.baseUrl, options.region)
    const timeout = yield* checkDuration("timeout", options.timeout, Duration.seconds(30))
    const retryBaseDelay = yield* checkDuration("retryBaseDelay", options.retryBaseDelay, Duration.millis(500))
    const maxRetryAfter = yield* checkDuration("maxRetryAfter", options.maxRetryAfter, Duration.seconds(60))
    const maxRetries = options.maxRetries ?? 2
    if (!Number.isSafeInteger(maxRetries) || maxRetries < 0 || maxRetries > 10) {
      return yield* Either.left(invalid("maxRetries", "must be a whole number from 0 to 10"))
    }
    return {
      sid,
      apiKey: options.apiKey,
      senderNumber,
      baseUrl,
      timeout,
      maxRetries,
      retryBaseDelay,
      maxRetryAfter,
      accountUrl: `${baseUrl}/v2/${encodeURIComponent(sid)}/whatsapp/${encodeURIComponent(senderNumber)}`
    }
  })

/**
 * The options read from configuration (with `ConfigProvider.fromEnv`, the environment variables `KALEYRA_SID`,
 * `KALEYRA_API_KEY`, `KALEYRA_SENDER_NUMBER`, and optionally `KALEYRA_REGION`, `KALEYRA_BASE_URL`,
 * `KALEYRA_TIMEOUT` (e.g. `10 seconds`) and `KALEYRA_MAX_RETRIES`). Missing or malformed values fail with a
 * `ConfigError` that names the variable.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  sid: Config.string("SID").pipe(
    Config.validate({ message: "must be 1 to 128 letters, digits, '-' or '_'", validation: (s) => SID.test(s) })
  ),
  // Checked once redacted (Effect turns a redacted value's own error into "<redacted>"), naming the variable itself.
  apiKey: Config.redacted("API_KEY").pipe(
    Config.mapOrFail((key) =>
      isSendableKey(Redacted.value(key)) ? Either.right(key) : Either.left(invalid("API_KEY", API_KEY_RULE))
    )
  ),
  senderNumber: Config.string("SENDER_NUMBER").pipe(
    Config.validate({
      message: "must be the business number with its country code: 8 to 15 digits",
      validation: (s) => Either.isRight(checkSender(s))
    })
  ),
  region: Config.option(Config.literal(...regions)("REGION")),
  baseUrl: Config.option(
    Config.string("BASE_URL").pipe(
      Config.validate({
        message: "must be an absolute http(s) URL without query or fragment",
        validation: (s) => Either.isRight(checkBaseUrl(s, undefined))
      })
    )
  ),
  timeout: Config.option(Config.duration("TIMEOUT")),
  maxRetries: Config.option(
    Config.integer("MAX_RETRIES").pipe(
      Config.validate({ message: "must be a whole number from 0 to 10", validation: (n) => n >= 0 && n <= 10 })
    )
  )
}).pipe(
  Config.map(({ apiKey, baseUrl, maxRetries, region, senderNumber, sid, timeout }): Options => ({
    sid,
    apiKey,
    senderNumber,
    region: Option.getOrUndefined(region),
    baseUrl: Option.getOrUndefined(baseUrl),
    timeout: Option.getOrUndefined(timeout),
    maxRetries: Option.getOrUndefined(maxRetries)
  })),
  Config.nested("KALEYRA")
)
