/**
 * The endpoint Kaleyra calls back: an HTTP route that checks a shared secret, reads the callback (the v2
 * `meta_object` envelope or the flat "dynamic variables" style, as a POST body or a GET query) and publishes its
 * events to `KaleyraEvents` (`ingestPayload`), so that `awaitStatus` and the `events` stream see Kaleyra's status
 * updates and incoming messages.
 *
 * ```ts
 * import { KaleyraNode } from "@effect-kaleyra/node"
 * import * as CallbackReceiver from "@effect-kaleyra/node/CallbackReceiver"
 *
 * Effect.gen(function*() {
 *   const { url } = yield* CallbackReceiver.serve({ secret: Redacted.make(secret), port: 8080, host: "0.0.0.0" })
 *   const { messageId } = yield* sendMedia(message)
 *   yield* awaitStatus(messageId, "read")
 * }).pipe(Effect.scoped, Effect.provide(KaleyraNode.layer(options)))
 * ```
 *
 * Or mount {@link router} in your own `HttpRouter` (`HttpRouter.concat`), or serve {@link app}.
 *
 * The answers, in the order of the checks:
 *
 * - 405 for a method other than POST and GET (`Allow: GET, POST`);
 * - 401 when neither the secret header (default `x-kaleyra-secret`) nor the password of HTTP Basic auth equals the
 *   secret (Kaleyra's callback profiles can add custom headers or Basic auth). The comparison takes constant time
 *   (SHA-256 of both sides, `crypto.timingSafeEqual`) and happens before any byte of the body is read;
 * - 413 when the body is larger than `maxBodyBytes` (default 1 MiB): a `Content-Length` above it is refused before
 *   reading; otherwise reading stops at the limit (never more than the limit is kept). Either way what the client
 *   still sends is dropped as it arrives, so that it reads the 413 rather than a reset connection, up to 8 times the
 *   limit (at least 512 KiB), after which the connection is cut;
 * - 400 when the payload is not JSON (nor a form for `application/x-www-form-urlencoded`), or not a Kaleyra callback
 *   (`CallbackDecodeError`: none of its entries could be decoded);
 * - 200 `{"ok":true,"accepted":n}` once the events of the `n` decoded entries are published. Entries that could not
 *   be decoded (an unknown status word, a malformed entry) are left out, logged at Warning and listed with why in
 *   `"rejected"`; their siblings are published. Publishing never waits on subscribers.
 *
 * Every refusal (401, 405, 413, 400) is logged at Warning with its reason, never with the secret.
 *
 * No input gives a 5xx: an unexpected defect is logged and answered 400. The secret is never logged nor echoed;
 * {@link serve} redacts every request header but {@link tracedHeaderNames} in spans and logs (a secret sent in an
 * unexpected header would otherwise be traced): do the same (`Headers.currentRedactedNames`) when you serve
 * {@link router} yourself.
 *
 * @since 0.1.0
 */
import { KaleyraEvents } from "@effect-kaleyra/core/KaleyraEvents"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Headers from "@effect/platform/Headers"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Arr from "effect/Array"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { createHash, timingSafeEqual } from "node:crypto"
import { createServer, IncomingMessage, type Server } from "node:http"
import { guardConnections } from "./internal/connectionGuard.js"

// ---------------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------------

/**
 * The path of the route by default.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPath = "/kaleyra/callbacks"

/**
 * The header that carries the secret by default (the simulator sends its callbacks with it).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSecretHeader = "x-kaleyra-secret"

/**
 * The largest body accepted by default: 1 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxBodyBytes = 1024 * 1024

/**
 * Options of the callback route: the shared secret, the largest body accepted.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The shared secret, set on the Kaleyra callback profile as a custom header or as the Basic auth password. An
   * empty secret refuses every request.
   */
  readonly secret: Redacted.Redacted<string>
  /** The route's path (default `/kaleyra/callbacks`). */
  readonly path?: `/${string}` | undefined
  /** The header that carries the secret (default `x-kaleyra-secret`; case does not matter). */
  readonly secretHeader?: string | undefined
  /** The largest body accepted, in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number | undefined
}

/**
 * Options of `serve`: the route's, and where to listen.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions extends Options {
  /** The port; `0` (the default) picks a free one. */
  readonly port?: number | undefined
  /** The address to listen on (default `127.0.0.1`: loopback only; `0.0.0.0` to take Kaleyra's calls). */
  readonly host?: "127.0.0.1" | (string & {}) | undefined
  /** How long closing waits for requests in progress before it closes their connections (default 1 second). */
  readonly closeGraceMillis?: number | undefined
  /**
   * The most connections open at once (default 512; keep it below the process's file limit, `ulimit -n`, minus what
   * else the process opens). At the cap, a new connection closes the one that has waited longest without a request
   * in progress (see {@link serve}).
   */
  readonly maxConnections?: number | undefined
}

/**
 * The most connections the receiver keeps open by default.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxConnections = 512

/**
 * A running receiver.
 *
 * @since 0.1.0
 * @category models
 */
export interface Served {
  /** The callback URL (`http://{host}:{port}{path}`): what the callback profile (or the simulator) calls. */
  readonly url: string
  /** `http://{host}:{port}`. */
  readonly origin: string
  readonly host: string
  readonly port: number
  readonly path: string
}

/**
 * The running receiver, as a service (see {@link layer}).
 *
 * @since 0.1.0
 * @category tags
 */
export class CallbackReceiver extends Context.Tag("@effect-kaleyra/node/CallbackReceiver")<
  CallbackReceiver,
  Served
>() {}

/**
 * The receiver could not start (the port is taken, the address is not local, the options are invalid).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServeError extends Schema.TaggedError<ServeError>("@effect-kaleyra/node/CallbackReceiver/ServeError")(
  "ServeError",
  {
    host: Schema.String,
    port: Schema.Number,
    /** The system error code, e.g. `EADDRINUSE`. */
    code: Schema.optional(Schema.String),
    detail: Schema.String
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Cannot serve the Kaleyra callback receiver on ${this.host}:${this.port}: ${this.detail}`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------------------------

const answer = (status: number, body: string, headers?: Record<string, string>) =>
  HttpServerResponse.text(body, {
    status,
    contentType: "application/json",
    ...(headers !== undefined ? { headers: Headers.fromInput(headers) } : {})
  })

/** What was published, and the entries left out (each with why): an unknown status word drops only its own entry. */
const accepted = (events: number, rejected: ReadonlyArray<{ readonly reason: string }>) =>
  answer(
    200,
    JSON.stringify(
      rejected.length === 0
        ? { ok: true, accepted: events }
        : { ok: true, accepted: events, rejected: rejected.slice(0, 20).map((r) => r.reason.slice(0, 300)) }
    )
  )
const UNAUTHORIZED = answer(401, `{"ok":false,"error":"unauthorized"}`, {
  "www-authenticate": `Basic realm="Kaleyra callbacks", charset="UTF-8"`
})
const METHOD_NOT_ALLOWED = answer(405, `{"ok":false,"error":"method not allowed"}`, { allow: "GET, POST" })
const TOO_LARGE = answer(413, `{"ok":false,"error":"payload too large"}`)
const NOT_FOUND = answer(404, `{"ok":false,"error":"not found"}`)

const badRequest = (reason: string) =>
  answer(400, JSON.stringify({ ok: false, error: `not a Kaleyra callback: ${reason.slice(0, 300)}` }))

// At Warning: a mistyped secret or a changed payload in production must not fail silently. Never the secret itself.
const rejected = (status: number, reason: string) =>
  Effect.logWarning("Kaleyra callback rejected").pipe(Effect.annotateLogs({ status, reason: reason.slice(0, 300) }))

const refuse = (reason: string) => Effect.as(rejected(400, reason), badRequest(reason))

// ---------------------------------------------------------------------------------------------------------------
// The secret
// ---------------------------------------------------------------------------------------------------------------

const sha256 = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest()

/** Constant-time comparison of a candidate with the secret (both hashed: equal lengths whatever the input). */
const makeAuthorizer = (options: Options) => {
  const secret = Redacted.value(options.secret)
  const expected = sha256(secret)
  const header = (options.secretHeader ?? defaultSecretHeader).toLowerCase()
  const matches = (candidate: string | undefined): boolean =>
    candidate !== undefined && timingSafeEqual(sha256(candidate), expected)
  return (headers: Headers.Headers): boolean => {
    if (secret === "") return false
    // Both candidates are always compared, so that the time does not say which one was close.
    const byHeader = matches(headers[header])
    const byBasic = matches(basicPassword(headers["authorization"]))
    return byHeader || byBasic
  }
}

const BASIC = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i

/** The password of an HTTP Basic `Authorization` header (the user name is not checked). */
const basicPassword = (authorization: string | undefined): string | undefined => {
  if (authorization === undefined) return undefined
  const match = BASIC.exec(authorization)
  if (match === null) return undefined
  const decoded = Buffer.from(match[1], "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  return colon === -1 ? undefined : decoded.slice(colon + 1)
}

// ---------------------------------------------------------------------------------------------------------------
// The body
// ---------------------------------------------------------------------------------------------------------------

class BodyTooLarge {
  readonly _tag = "BodyTooLarge"
}

class BodyUnreadable {
  readonly _tag = "BodyUnreadable"
}

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array =>
  chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)

/**
 * Drops the rest of a refused body as it arrives, so that the client, still sending, reads the 413 instead of a reset
 * connection; past `cap` dropped bytes the connection is cut.
 */
const dropRest = (source: IncomingMessage, cap: number): void => {
  if (source.readableEnded || source.destroyed) return
  let dropped = 0
  const onData = (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > cap) {
      source.off("data", onData)
      source.destroy()
    }
  }
  source.on("data", onData)
  source.once("end", () => source.off("data", onData))
}

const dropCap = (limit: number): number => Math.max(limit, 64 * 1024) * 8

/**
 * Reads a Node request body up to `limit` bytes. Past the limit, reading stops: nothing more is kept, and the rest of
 * the body is dropped (see `dropRest`).
 */
const readNodeBody = (
  source: IncomingMessage,
  limit: number
): Effect.Effect<Uint8Array, BodyTooLarge | BodyUnreadable> =>
  Effect.async<Uint8Array, BodyTooLarge | BodyUnreadable>((resume) => {
    if (source.readableEnded) return resume(Effect.succeed(new Uint8Array(0)))
    if (source.destroyed) return resume(Effect.fail(new BodyUnreadable()))
    const chunks: Array<Uint8Array> = []
    let size = 0
    const cleanup = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      source.off("close", onClose)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        dropRest(source, dropCap(limit))
        resume(Effect.fail(new BodyTooLarge()))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(concat(chunks, size)))
    }
    const onError = () => {
      cleanup()
      resume(Effect.fail(new BodyUnreadable()))
    }
    const onClose = () => {
      cleanup()
      resume(Effect.fail(new BodyUnreadable()))
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("error", onError)
    source.on("close", onClose)
    return Effect.sync(cleanup)
  })

/** Reads any other request's body (another runtime, a test harness) up to `limit` bytes. */
const readStreamBody = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): Effect.Effect<Uint8Array, BodyTooLarge | BodyUnreadable> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    let tooLarge = false
    return request.stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          size += chunk.length
          if (size > limit) {
            tooLarge = true
            return false
          }
          chunks.push(chunk)
          return true
        })
      ),
      Effect.mapError(() => new BodyUnreadable()),
      Effect.flatMap(() => tooLarge ? Effect.fail(new BodyTooLarge()) : Effect.succeed(concat(chunks, size)))
    )
  })

const readBody = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): Effect.Effect<Uint8Array, BodyTooLarge | BodyUnreadable> =>
  request.source instanceof IncomingMessage ? readNodeBody(request.source, limit) : readStreamBody(request, limit)

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** A flat record of form fields or query parameters (the first value of a repeated name wins). */
const fieldsOf = (params: URLSearchParams): Record<string, string> => {
  const out: Array<[string, string]> = []
  const seen = new Set<string>()
  for (const [name, value] of params) {
    if (seen.has(name)) continue
    seen.add(name)
    out.push([name, value])
  }
  // `fromEntries` defines own properties: a field named `__proto__` stays a plain field.
  return Object.fromEntries(out)
}

const queryOf = (url: string): URLSearchParams => {
  const mark = url.indexOf("?")
  if (mark === -1) return new URLSearchParams()
  const hash = url.indexOf("#", mark)
  return new URLSearchParams(hash === -1 ? url.slice(mark + 1) : url.slice(mark + 1, hash))
}

const mediaType = (contentType: string | undefined): string =>
  contentType === undefined ? "" : contentType.split(";")[0].trim().toLowerCase()

/** The payload of a POST body, or why it is not one. */
const parseBody = (
  bytes: Uint8Array,
  contentType: string | undefined,
  query: URLSearchParams
): Either.Either<unknown, string> => {
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return Either.left("the body is not UTF-8")
  }
  if (mediaType(contentType) === "application/x-www-form-urlencoded") {
    const fields = fieldsOf(new URLSearchParams(text))
    return Object.keys(fields).length === 0 ? Either.left("the form is empty") : Either.right(fields)
  }
  if (text.trim() === "") {
    // Some profiles POST their dynamic variables in the query string.
    return query.size > 0 ? Either.right(fieldsOf(query)) : Either.left("the body is empty")
  }
  try {
    return Either.right(JSON.parse(text))
  } catch {
    return Either.left("the body is not JSON")
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The route
// ---------------------------------------------------------------------------------------------------------------

const limitOf = (maxBodyBytes: number | undefined): number =>
  maxBodyBytes === undefined || !Number.isFinite(maxBodyBytes) || maxBodyBytes < 0
    ? defaultMaxBodyBytes
    : Math.floor(maxBodyBytes)

/**
 * The request handler (for any path): checks, reads, decodes and publishes one callback. Never fails and never
 * answers a 5xx.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handler = (
  options: Options
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest | KaleyraEvents> => {
  const authorized = makeAuthorizer(options)
  const limit = limitOf(options.maxBodyBytes)

  const refused = (reason: string): Effect.Effect<Either.Either<unknown, HttpServerResponse.HttpServerResponse>> =>
    Effect.map(refuse(reason), (response) => Either.left(response))

  const payloadOf = (
    request: HttpServerRequest.HttpServerRequest
  ): Effect.Effect<Either.Either<unknown, HttpServerResponse.HttpServerResponse>> => {
    const query = queryOf(request.url)
    if (request.method === "GET") {
      return query.size > 0
        ? Effect.succeed(Either.right(fieldsOf(query)))
        : refused("the query string is empty")
    }
    const declared = request.headers["content-length"]
    if (declared !== undefined && /^\s*\d+\s*$/.test(declared) && Number(declared) > limit) {
      if (request.source instanceof IncomingMessage) dropRest(request.source, dropCap(limit))
      return Effect.as(rejected(413, "declared length over the limit"), Either.left(TOO_LARGE))
    }
    return readBody(request, limit).pipe(
      Effect.flatMap((bytes) =>
        Either.match(parseBody(bytes, request.headers["content-type"], query), {
          onLeft: refused,
          onRight: (payload) => Effect.succeed(Either.right(payload))
        })
      ),
      Effect.catchAll((error) =>
        error._tag === "BodyTooLarge"
          ? Effect.as(rejected(413, "body over the limit"), Either.left(TOO_LARGE))
          : refused("the body could not be read")
      )
    )
  }

  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.method !== "POST" && request.method !== "GET") {
      yield* rejected(405, "method")
      return METHOD_NOT_ALLOWED
    }
    if (!authorized(request.headers)) {
      yield* rejected(401, "missing or wrong secret")
      return UNAUTHORIZED
    }
    const payload = yield* payloadOf(request)
    if (Either.isLeft(payload)) return payload.left
    const events = yield* KaleyraEvents
    const ingested = yield* Effect.either(events.ingestCallback(payload.right))
    if (Either.isLeft(ingested)) return yield* refuse(ingested.left.reason)
    return accepted(ingested.right.events.length, ingested.right.rejected)
  }).pipe(
    Effect.catchAllDefect((defect) =>
      Effect.as(
        Effect.logWarning("Kaleyra callback receiver: unexpected defect, answered 400").pipe(
          Effect.annotateLogs({ defect: defect instanceof Error ? defect.message : String(defect) })
        ),
        badRequest("the request could not be handled")
      )
    )
  )
}

/**
 * The receiver as an `HttpRouter` with one route (`options.path`, every method: other methods than GET and POST
 * answer 405), to mount in your own router (`HttpRouter.concat`, `HttpRouter.mount`). Needs `KaleyraEvents`.
 *
 * @since 0.1.0
 * @category routers
 */
export const router = (options: Options): HttpRouter.HttpRouter<never, KaleyraEvents> =>
  HttpRouter.all(HttpRouter.empty, options.path ?? defaultPath, handler(options))

/**
 * The same as {@link router}.
 *
 * @since 0.1.0
 * @category routers
 */
export const route: (options: Options) => HttpRouter.HttpRouter<never, KaleyraEvents> = router

/**
 * The receiver as a whole `HttpApp`: {@link router}, and 404 for any other path.
 *
 * @since 0.1.0
 * @category routers
 */
export const app = (options: Options): HttpApp.Default<never, KaleyraEvents> =>
  Effect.catchTag(router(options), "RouteNotFound", () => Effect.succeed(NOT_FOUND))

// ---------------------------------------------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------------------------------------------

const urlOf = (host: string, port: number): string => `http://${host.includes(":") ? `[${host}]` : host}:${port}`

const serveErrorOf = (host: string, port: number, cause: unknown): ServeError => {
  const error = cause as { readonly code?: unknown; readonly message?: unknown } | undefined
  return new ServeError({
    host,
    port,
    ...(typeof error?.code === "string" ? { code: error.code } : {}),
    detail: typeof error?.message === "string" ? error.message : "the server could not listen"
  })
}

/**
 * Serves {@link app} on a `node:http` server until the scope closes (`127.0.0.1` and a free port by default), and
 * returns the callback URL. The secret header is added to the redacted header names of the server's fibers.
 *
 * Clients that open connections and send nothing, or half a request, cannot starve Kaleyra's callbacks: at most
 * `maxConnections` are open (default 512), and at the cap a new connection closes the one that has waited longest
 * without a request in progress (a request head still incomplete, an idle keep-alive); a request head must arrive
 * within 5 seconds and a whole request within 15 (checked every second), and an idle keep-alive connection is closed
 * after 5 seconds. A server of your own that mounts {@link router} needs limits of its own.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (options: ServeOptions): Effect.Effect<Served, ServeError, KaleyraEvents | Scope.Scope> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    const port = options.port ?? 0
    const path = options.path ?? defaultPath
    if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
      return yield* new ServeError({ host, port, detail: "the port must be a whole number from 0 to 65535" })
    }
    const maxConnections = options.maxConnections ?? defaultMaxConnections
    if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
      return yield* new ServeError({ host, port, detail: "maxConnections must be a whole number of at least 1" })
    }
    let nodeServer: Server | undefined
    const server = yield* NodeHttpServer.make(() => {
      // Far below Node's defaults (checked every 30 s), so that a stalled client cannot hold a connection for long.
      nodeServer = createServer({
        headersTimeout: 5_000,
        requestTimeout: 15_000,
        keepAliveTimeout: 5_000,
        connectionsCheckingInterval: 1_000
      })
      guardConnections(nodeServer, maxConnections)
      return nodeServer
    }, { port, host }).pipe(
      Effect.catchAll((error) => Effect.fail(serveErrorOf(host, port, error.cause)))
    )
    const listening = nodeServer!
    // A late server error (a failed accept) must not crash the process.
    listening.on("error", () => {})
    // Runs before the platform's `close`: after the grace period, the connections still open are closed.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        listening.closeIdleConnections()
        const timer = setTimeout(() => listening.closeAllConnections(), options.closeGraceMillis ?? 1_000)
        timer.unref()
        listening.once("close", () => clearTimeout(timer))
      })
    )
    yield* HttpServer.serveEffect(app(options)).pipe(
      Effect.provideService(HttpServer.HttpServer, server),
      Effect.locallyWith(Headers.currentRedactedNames, Arr.append(tracedHeadersOnly))
    )
    const address = server.address
    const boundPort = address._tag === "TcpAddress" ? address.port : port
    const origin = urlOf(host, boundPort)
    return { url: `${origin}${path}`, origin, host, port: boundPort, path }
  })

/**
 * The header names the receiver's spans and logs may show in clear: everything else is redacted, because a callback
 * profile set up with another header name (or a proxy) would otherwise put the shared secret in a span attribute.
 *
 * @since 0.1.0
 * @category constants
 */
export const tracedHeaderNames: ReadonlyArray<string> = [
  "host",
  "content-type",
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "user-agent",
  "accept",
  "accept-encoding",
  "connection",
  "traceparent",
  "tracestate",
  "x-request-id",
  "x-forwarded-for",
  "x-forwarded-proto"
]

/** Matches every header name that is not in {@link tracedHeaderNames}. */
const tracedHeadersOnly = new RegExp(
  `^(?!(?:${tracedHeaderNames.join("|")})$)`,
  "i"
)

/**
 * Serves the receiver for the lifetime of the layer (see {@link serve}) and provides where it listens.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ServeOptions): Layer.Layer<CallbackReceiver, ServeError, KaleyraEvents> =>
  Layer.scoped(CallbackReceiver, serve(options))
