/**
 * The client's spans. `Kaleyra.sendMedia`, one per send; and the `http.client` span of a request sent through a
 * generic `HttpClient`, recorded in place of the platform's: the platform's span records the response headers and
 * the transport's failure as they came, so a key a server or transport echoes there would reach the tracer. This one
 * records the same attributes, the response headers scrubbed, and ends with the error the client made of the failure
 * (scrubbed).
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { constTrue } from "effect/Function"
import * as Tracer from "effect/Tracer"
import type { SendMediaResult } from "../KaleyraClient.js"
import type { SendMediaError } from "../KaleyraError.js"
import type * as MediaMessage from "../MediaMessage.js"

/**
 * Runs `execute` (a request through a generic `HttpClient`) with the platform's span turned off and this one in its
 * place, nested under the current span as the platform's was. The span ends with `spanError` of a failure (scrubbed),
 * while the effect fails with the failure itself.
 *
 * @internal
 */
export const traced = <E>(
  request: HttpClientRequest.HttpClientRequest,
  redactedNames: ReadonlyArray<string | RegExp>,
  execute: Effect.Effect<HttpClientResponse.HttpClientResponse, E>,
  scrubText: (text: string) => string,
  spanError: (error: E) => unknown
): Effect.Effect<HttpClientResponse.HttpClientResponse, E> =>
  Effect.flatMap(
    Effect.makeSpan(`http.client ${request.method}`, { kind: "client", captureStackTrace: false }),
    (span) => {
      span.attribute("http.request.method", request.method)
      try {
        const url = new URL(request.url)
        span.attribute("server.address", url.origin)
        if (url.port !== "") span.attribute("server.port", +url.port)
        span.attribute("url.full", url.toString())
        span.attribute("url.path", url.pathname)
        span.attribute("url.scheme", url.protocol.slice(0, -1))
      } catch {
        // not a URL: the transport fails it, and the span says so
      }
      const requestHeaders = Headers.redact(request.headers, redactedNames)
      for (const name in requestHeaders) span.attribute(`http.request.header.${name}`, String(requestHeaders[name]))
      return execute.pipe(
        Effect.locally(HttpClient.currentTracerDisabledWhen, constTrue),
        Effect.withParentSpan(span),
        Effect.tap((response) => {
          span.attribute("http.response.status_code", response.status)
          const headers = Headers.redact(response.headers, redactedNames)
          for (const name in headers) span.attribute(`http.response.header.${name}`, scrubText(String(headers[name])))
        }),
        Effect.onExit((exit) =>
          Effect.flatMap(Clock.currentTimeNanos, (now) =>
            Effect.sync(() =>
              span.end(
                now,
                Exit.isFailure(exit)
                  ? Exit.failCause(Cause.map(exit.cause, spanError))
                  : exit
              )
            ))
        )
      )
    }
  )

/** Effect's default tracer: its spans go nowhere unless they are made current. */
const defaultTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

const sendSpanOptions = (message: MediaMessage.MediaMessage) => ({
  kind: "client" as const,
  captureStackTrace: false,
  attributes: { "kaleyra.type": message.type, "kaleyra.recipients": message.to.length }
})

/** The send span, made current: a transport's own span per request nests under it. */
const currentSendSpan = (effect: Effect.Effect<SendMediaResult, SendMediaError>, message: MediaMessage.MediaMessage) =>
  effect.pipe(
    Effect.tap((result) =>
      Effect.annotateCurrentSpan({ "kaleyra.message_id": result.messageId, "kaleyra.attempts": result.attempts })
    ),
    Effect.withSpan("Kaleyra.sendMedia", sendSpanOptions(message))
  )

/**
 * The send span, created and ended directly: making it the current span (Effect.withSpan) copies the fiber's
 * context, which costs a third of the lean send path.
 */
const directSendSpan = (effect: Effect.Effect<SendMediaResult, SendMediaError>, message: MediaMessage.MediaMessage) =>
  Effect.flatMap(
    Effect.makeSpan("Kaleyra.sendMedia", sendSpanOptions(message)),
    (span) =>
      Effect.onExit(effect, (exit) =>
        Effect.flatMap(Clock.currentTimeNanos, (now) =>
          Effect.sync(() => {
            if (exit._tag === "Success") {
              span.attribute("kaleyra.message_id", exit.value.messageId)
              span.attribute("kaleyra.attempts", exit.value.attempts)
            }
            span.end(now, exit)
          })))
  )

/**
 * One `Kaleyra.sendMedia` span around a send. Made current when the transport nests spans of its own under it
 * (`nested`); otherwise created directly, and not at all under Effect's default tracer, which records nothing (a
 * native span draws 48 random hex digits for its ids). `services`: the fiber's default services, read once per send.
 *
 * @internal
 */
export const sendSpan = (
  effect: Effect.Effect<SendMediaResult, SendMediaError>,
  message: MediaMessage.MediaMessage,
  nested: boolean,
  services: Context.Context<DefaultServices.DefaultServices>
): Effect.Effect<SendMediaResult, SendMediaError> =>
  nested
    ? currentSendSpan(effect, message)
    : Context.get(services, Tracer.Tracer) === defaultTracer
    ? effect
    : directSendSpan(effect, message)
