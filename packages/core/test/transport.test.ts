/**
 * The transport contract (`KaleyraTransport`): every send and upload goes through it, with the attempt's deadline;
 * its failures are classified by what they say was written; a `transformClient` sends through the generic transport
 * over the transport's `HttpClient`.
 */
import { KaleyraClient, KaleyraTransport, sendMedia, uploadMedia } from "@effect-kaleyra/core"
import type { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, TestClock, type Tracer } from "effect"
import { files } from "./files.js"
import { accepted, type Answer, baseOptions, imageByLink, scripted, scriptedTransport } from "./utils.js"

const acceptedAnswer: KaleyraTransport.Response = {
  status: 202,
  contentType: "application/json",
  retryAfter: undefined,
  body: accepted("m-1").body
}

const timedOut = (requestSent: boolean): Answer => ({
  cause: Object.assign(new Error("timed out"), { code: KaleyraTransport.TIMEOUT_CODE, requestSent })
})

const layerFor = (answers: ReadonlyArray<Answer>, options = {}) => {
  const transport = scriptedTransport(answers)
  return {
    ...transport,
    layer: KaleyraClient.layer({ ...baseOptions, timeout: "7 seconds", retryBaseDelay: "1 millis", ...options }).pipe(
      Layer.provide(transport.layer)
    )
  }
}

describe("KaleyraTransport", () => {
  it.effect("a send is the very request the generic transport puts on the wire, with the attempt's deadline", () =>
    Effect.gen(function*() {
      const lean = layerFor([acceptedAnswer])
      const sent = yield* sendMedia(imageByLink).pipe(Effect.provide(lean.layer))
      assert.strictEqual(sent.messageId, "m-1")
      assert.strictEqual(lean.sent.length, 1)
      // The same send through the generic transport over an `HttpClient`, to compare what goes out.
      const plain = scripted([accepted("m-1")])
      yield* sendMedia(imageByLink).pipe(
        Effect.provide(KaleyraClient.layer(baseOptions).pipe(Layer.provide(plain.layer)))
      )
      const request = lean.sent[0] as KaleyraTransport.Request
      const [seen] = plain.seen
      assert.strictEqual(request.method, seen.method)
      assert.strictEqual(request.url, seen.url)
      assert.strictEqual(request.body, seen.body)
      assert.strictEqual(request.timeoutMillis, 7_000)
      const { "content-length": _length, ...headers } = seen.headers
      assert.deepStrictEqual({ ...request.headers }, headers)
    }))

  it.effect("an upload goes through the contract's upload, with a deadline scaled by size", () =>
    Effect.gen(function*() {
      const lean = layerFor([{ ...acceptedAnswer, status: 200, body: JSON.stringify({ id: "media-1" }) }])
      const uploaded = yield* uploadMedia({ data: files.pdf(1_000_000), filename: "a.pdf" }).pipe(
        Effect.provide(lean.layer)
      )
      assert.strictEqual(uploaded.id, "media-1")
      const upload = lean.sent[0] as KaleyraTransport.Upload
      assert.isTrue(upload.url.endsWith("/media"))
      assert.strictEqual(upload.form.get("type"), "application/pdf")
      assert.isTrue(upload.timeoutMillis > 7_000)
    }))

  it.effect("a timeout after the request was written is returned, not retried", () =>
    Effect.gen(function*() {
      const lean = layerFor([timedOut(true), acceptedAnswer])
      const error = yield* Effect.flip(sendMedia(imageByLink).pipe(Effect.provide(lean.layer)))
      assert.strictEqual(error._tag, "TransportError")
      if (error._tag === "TransportError") {
        assert.strictEqual(error.reason, "Timeout")
        assert.isTrue(error.mayHaveReachedKaleyra)
      }
      assert.strictEqual(lean.sent.length, 1)
    }))

  it.live("a timeout before the request was written is retried", () =>
    Effect.gen(function*() {
      const lean = layerFor([timedOut(false), acceptedAnswer])
      const result = yield* sendMedia(imageByLink).pipe(Effect.provide(lean.layer))
      assert.strictEqual(result.attempts, 2)
      assert.strictEqual(lean.sent.length, 2)
    }))

  it.live("failures: never sent is retried, a body that failed is BodyReadFailed", () =>
    Effect.gen(function*() {
      const notSent = { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED", requestSent: false }) }
      const lean = layerFor([notSent, {
        cause: Object.assign(new Error("reset"), { code: "ECONNRESET", requestSent: true }),
        status: 202,
        contentType: "application/json"
      }])
      const outcome = yield* Effect.either(sendMedia(imageByLink)).pipe(Effect.provide(lean.layer))
      assert.strictEqual(lean.sent.length, 2, "the refused attempt was retried")
      if (Either.isRight(outcome)) return assert.fail("expected a failure")
      const error = outcome.left
      assert.strictEqual(error._tag, "UnexpectedResponse")
      if (error._tag !== "UnexpectedResponse") return
      assert.strictEqual(error.reason, "BodyReadFailed")
      assert.strictEqual(error.status, 202)
      assert.isTrue(error.accepted)

      const refusedOnly = layerFor([notSent], { maxRetries: 1 })
      const refused = yield* Effect.flip(sendMedia(imageByLink)).pipe(Effect.provide(refusedOnly.layer))
      assert.strictEqual(refused._tag, "TransportError")
      if (refused._tag === "TransportError") {
        assert.strictEqual(refused.reason, "ConnectionRefused")
        assert.isFalse(refused.mayHaveReachedKaleyra)
      }
    }))

  it.effect("a transformClient sends through the generic transport over the transport's HttpClient", () =>
    Effect.gen(function*() {
      const plain = scripted([accepted("m-2")])
      const transport = scriptedTransport([acceptedAnswer])
      let wrapped = 0
      const transformClient = (client: HttpClient.HttpClient) => {
        wrapped++
        assert.strictEqual(client, plain.client)
        return client
      }
      const sent = yield* sendMedia(imageByLink).pipe(
        Effect.provide(
          KaleyraClient.layer({ ...baseOptions, transformClient }).pipe(
            Layer.provide(
              Layer.succeed(KaleyraTransport.KaleyraTransport, { ...transport.service, httpClient: plain.client })
            )
          )
        )
      )
      assert.strictEqual(sent.messageId, "m-2")
      assert.strictEqual(wrapped, 1)
      assert.strictEqual(transport.sent.length, 0)
      assert.strictEqual(plain.seen.length, 1)
    }))

  it.effect("the generic transport fails at the deadline, as a request that may have been written", () =>
    Effect.gen(function*() {
      const hanging = scripted([{ hang: true }])
      const fiber = yield* Effect.fork(
        Effect.flip(sendMedia(imageByLink)).pipe(
          Effect.provide(
            KaleyraClient.layer({ ...baseOptions, timeout: "2 seconds" }).pipe(Layer.provide(hanging.layer))
          )
        )
      )
      yield* Effect.yieldNow()
      yield* TestClock.adjust("2 seconds")
      const error = yield* fiber.await.pipe(Effect.flatten)
      assert.strictEqual(error._tag, "TransportError")
      if (error._tag === "TransportError") {
        assert.strictEqual(error.reason, "Timeout")
        assert.isTrue(error.mayHaveReachedKaleyra)
        assert.include(error.detail, "no complete response within 2s")
      }
    }))

  it.live("one Kaleyra.sendMedia span per send, with its message id", () =>
    Effect.gen(function*() {
      const { layer } = layerFor([acceptedAnswer])
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
