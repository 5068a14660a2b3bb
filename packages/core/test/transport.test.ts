import { HttpTransport, KaleyraClient, sendMedia, uploadMedia } from "@effect-kaleyra/core"
import { HttpClient, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, FiberRef, Layer, type Tracer } from "effect"
import { files } from "./files.js"
import { baseOptions, imageByLink } from "./utils.js"

type Behaviour = "ok" | "timeout-sent" | "timeout-unsent"

/** A transport that enforces timeouts natively: it records the timeout it was asked for and can fail with one. */
const nativeTransport = (behaviours: ReadonlyArray<Behaviour>) => {
  const timeouts: Array<Duration.Duration | undefined> = []
  const client = HttpClient.makeWith(
    (effect) =>
      Effect.flatMap(
        effect,
        (request: HttpClientRequest.HttpClientRequest) =>
          Effect.flatMap(FiberRef.get(HttpTransport.currentTimeout), (timeout) => {
            timeouts.push(timeout)
            const behaviour = behaviours[Math.min(timeouts.length - 1, behaviours.length - 1)]
            if (behaviour === "ok") {
              const body = request.url.endsWith("/media")
                ? JSON.stringify({ id: "media-1" })
                : JSON.stringify({ code: "WA202", data: { message_id: "m-1" } })
              return Effect.succeed(HttpClientResponse.fromWeb(request, new Response(body, { status: 202 })))
            }
            const cause = Object.assign(new Error("timed out"), {
              code: HttpTransport.TIMEOUT_CODE,
              requestSent: behaviour === "timeout-sent"
            })
            return Effect.fail(
              new (class extends Error {
                readonly _tag = "RequestError"
                readonly reason = "Transport"
                override readonly cause = cause
              })() as never
            )
          })
      ),
    Effect.succeed
  ) as HttpClient.HttpClient
  return { timeouts, client: HttpTransport.withNativeTimeout(client) }
}

const layerFor = (behaviours: ReadonlyArray<Behaviour>, options = {}) => {
  const transport = nativeTransport(behaviours)
  return {
    ...transport,
    layer: KaleyraClient.layer({ ...baseOptions, timeout: "7 seconds", retryBaseDelay: "1 millis", ...options }).pipe(
      Layer.provide(Layer.succeed(HttpClient.HttpClient, transport.client))
    )
  }
}

describe("transports that enforce timeouts natively (HttpTransport)", () => {
  it.live("receive the attempt timeout; an upload gets a longer one scaled by size", () =>
    Effect.gen(function*() {
      const { layer, timeouts } = layerFor(["ok"])
      yield* sendMedia(imageByLink).pipe(Effect.provide(layer))
      yield* uploadMedia({ data: files.pdf(1_000_000), filename: "a.pdf" }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(timeouts[0], Duration.seconds(7))
      assert.isTrue(Duration.greaterThan(timeouts[1]!, Duration.seconds(7)))
    }))

  it.live("a timeout after the request was written is returned, not retried", () =>
    Effect.gen(function*() {
      const { layer, timeouts } = layerFor(["timeout-sent", "ok"])
      const error = yield* Effect.flip(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      assert.strictEqual(error._tag, "TransportError")
      if (error._tag === "TransportError") {
        assert.strictEqual(error.reason, "Timeout")
        assert.isTrue(error.mayHaveReachedKaleyra)
      }
      assert.strictEqual(timeouts.length, 1)
    }))

  it.live("a timeout before the request was written is retried", () =>
    Effect.gen(function*() {
      const { layer, timeouts } = layerFor(["timeout-unsent", "ok"])
      const result = yield* sendMedia(imageByLink).pipe(Effect.provide(layer))
      assert.strictEqual(result.attempts, 2)
      assert.strictEqual(timeouts.length, 2)
    }))

  it.live("with transformClient, the generic timeout applies (the wrapper may not keep the contract)", () =>
    Effect.gen(function*() {
      const { layer, timeouts } = layerFor(["ok"], { transformClient: (c: HttpClient.HttpClient) => c })
      yield* sendMedia(imageByLink).pipe(Effect.provide(layer))
      assert.deepStrictEqual(timeouts, [undefined])
    }))

  it.live("one Kaleyra.sendMedia span per send, with its message id", () =>
    Effect.gen(function*() {
      const { layer } = layerFor(["ok"])
      const spans: Array<Tracer.Span> = []
      const native = yield* Effect.tracer
      const tracer: Tracer.Tracer = {
        ...native,
        span(...args) {
          const span = native.span(...args)
          spans.push(span)
          return span
        }
      }
      yield* sendMedia(imageByLink).pipe(Effect.provide(layer), Effect.withTracer(tracer))
      const sends = spans.filter((s) => s.name === "Kaleyra.sendMedia")
      assert.strictEqual(sends.length, 1)
      assert.strictEqual(sends[0].attributes.get("kaleyra.message_id"), "m-1")
      assert.strictEqual(sends[0].attributes.get("kaleyra.type"), "image")
      assert.strictEqual(sends[0].status._tag, "Ended")
    }))
})
