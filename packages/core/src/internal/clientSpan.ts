/**
 * The `http.client` span of a request sent through a generic `HttpClient`, recorded by the Kaleyra client in place
 * of the platform's: the platform's span records the response headers and the transport's failure as they came, so
 * a key a server or transport echoes there would reach the tracer. This one records the same attributes, the
 * response headers scrubbed, and ends with the error the client made of the failure (scrubbed).
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { constTrue } from "effect/Function"

/**
 * Runs `execute` (a request through a generic `HttpClient`) with the platform's span turned off and this one in its
 * place, nested under the current span as the platform's was.
 *
 * @internal
 */
export const traced = <E, E2>(
  request: HttpClientRequest.HttpClientRequest,
  execute: Effect.Effect<HttpClientResponse.HttpClientResponse, E>,
  scrubText: (text: string) => string,
  scrubError: (error: E) => E2
): Effect.Effect<HttpClientResponse.HttpClientResponse, E2> =>
  Effect.flatMap(
    FiberRef.get(Headers.currentRedactedNames),
    (redactedNames) =>
      Effect.useSpan(`http.client ${request.method}`, { kind: "client", captureStackTrace: false }, (span) => {
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
          Effect.mapError(scrubError),
          Effect.tap((response) => {
            span.attribute("http.response.status_code", response.status)
            const headers = Headers.redact(response.headers, redactedNames)
            for (const name in headers) span.attribute(`http.response.header.${name}`, scrubText(String(headers[name])))
          })
        )
      })
  )
