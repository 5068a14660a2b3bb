/**
 * The simulator behind an `@effect/platform` server: its answers as `HttpServerResponse`s, with its transport-level
 * faults performed as closely as an `HttpApp` can (it cannot reset its socket).
 *
 * @internal
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"
import { hugeBodyChunks } from "./faults.js"
import { RESPONSES } from "./responses.js"

type SimResponse = KaleyraSimulator.SimResponse

export const toServerResponse = (response: SimResponse): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(response.body, {
    status: response.status,
    headers: response.headers,
    contentType: response.headers["content-type"] ?? "application/json"
  })

export const performServerResponse = (response: SimResponse): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  const fault = response.fault
  if (fault === undefined) return Effect.succeed(toServerResponse(response))
  const contentType = response.headers["content-type"] ?? "application/json"
  switch (fault.kind) {
    case "reset":
      return Effect.interrupt
    case "silent":
      return Effect.never
    case "latency":
      return Effect.as(Effect.sleep(fault.millis), toServerResponse(response))
    case "drip": {
      const bytes = new TextEncoder().encode(response.body)
      const ticks = Math.max(1, Math.min(bytes.length, Math.floor(fault.millis)))
      const pieces = Array.from(
        { length: ticks },
        (_, i) => bytes.subarray(Math.round(bytes.length * i / ticks), Math.round(bytes.length * (i + 1) / ticks))
      )
      const body = Stream.mapEffect(
        Stream.fromIterable(pieces),
        (piece) => Effect.as(Effect.sleep(fault.millis / ticks), piece)
      )
      return Effect.succeed(HttpServerResponse.stream(body, {
        status: response.status,
        headers: response.headers,
        contentType,
        contentLength: bytes.length
      }))
    }
    case "huge": {
      const body = Stream.suspend(() => {
        const chunks = hugeBodyChunks(fault.bytes)
        return Stream.repeatEffectOption(Effect.suspend(() => {
          const next = chunks.next()
          return next.done === true ? Effect.fail(Option.none()) : Effect.succeed(next.value)
        }))
      })
      return Effect.succeed(HttpServerResponse.stream(body, {
        status: response.status,
        headers: response.headers,
        contentType,
        ...(fault.chunked ? {} : { contentLength: fault.bytes })
      }))
    }
  }
}

/** The `HttpApp` of a simulator's `handle`: a body that cannot be read is a `WA400`. */
export const toHttpApp = (handle: KaleyraSimulator.Simulator["handle"]): HttpApp.Default =>
  Effect.flatMap(
    HttpServerRequest.HttpServerRequest,
    (request) =>
      Effect.matchEffect(request.arrayBuffer, {
        onFailure: () => Effect.succeed(toServerResponse(RESPONSES.WA400)),
        onSuccess: (buffer) =>
          Effect.flatMap(
            handle({
              method: request.method,
              path: request.url,
              headers: request.headers,
              body: new Uint8Array(buffer)
            }),
            performServerResponse
          )
      })
  )
