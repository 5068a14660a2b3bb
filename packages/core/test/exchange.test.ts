/**
 * `HttpTransport.Exchange`: when the client's transport offers one, sends go through it (one step per attempt)
 * instead of `execute`; everything else about a send stays the same.
 */
import { HttpTransport, KaleyraClient, sendMedia, uploadMedia } from "@effect-kaleyra/core"
import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import { files } from "./files.js"
import { accepted, baseOptions, imageByLink, type Reply, scripted } from "./utils.js"

type Answer = HttpTransport.ExchangeResponse | HttpTransport.ExchangeFailure

/** The scripted client of `utils.ts` (for `execute`), offering an exchange that answers `answers` in order. */
const withExchange = (answers: ReadonlyArray<Answer>, replies: ReadonlyArray<Reply> = [accepted()]) => {
  const exchanged: Array<HttpTransport.ExchangeRequest> = []
  const script = scripted(replies)
  const exchange: HttpTransport.Exchange = (request) =>
    Effect.suspend(() => {
      exchanged.push(request)
      const answer = answers[Math.min(exchanged.length - 1, answers.length - 1)]
      return "cause" in answer ? Effect.fail(answer) : Effect.succeed(answer)
    })
  const client = HttpTransport.withExchange(script.client, exchange)
  return { exchanged, seen: script.seen, httpLayer: Layer.succeed(HttpClient.HttpClient, client) }
}

const acceptedAnswer: HttpTransport.ExchangeResponse = {
  status: 202,
  contentType: "application/json",
  retryAfter: undefined,
  body: accepted("m-1").body
}

describe("HttpTransport.Exchange", () => {
  it.effect("a send goes through the exchange, as the very request `execute` would have carried", () =>
    Effect.gen(function*() {
      const lean = withExchange([acceptedAnswer])
      const sent = yield* sendMedia(imageByLink).pipe(
        Effect.provide(
          KaleyraClient.layer({ ...baseOptions, timeout: "7 seconds" }).pipe(Layer.provide(lean.httpLayer))
        )
      )
      assert.strictEqual(sent.messageId, "m-1")
      assert.strictEqual(lean.seen.length, 0, "execute was not used")
      assert.strictEqual(lean.exchanged.length, 1)
      // The same send through `execute` (a client without an exchange), to compare what goes out.
      const plain = scripted([accepted("m-1")])
      yield* sendMedia(imageByLink).pipe(
        Effect.provide(KaleyraClient.layer(baseOptions).pipe(Layer.provide(plain.layer)))
      )
      const [request] = lean.exchanged
      const [seen] = plain.seen
      assert.strictEqual(request.method, seen.method)
      assert.strictEqual(request.url, seen.url)
      assert.strictEqual(request.body, seen.body)
      assert.strictEqual(request.timeoutMillis, 7_000)
      const { "content-length": _length, ...headers } = seen.headers
      assert.deepStrictEqual({ ...request.headers }, headers)
    }))

  it.effect("uploads go through execute; a transformClient turns the exchange off", () =>
    Effect.gen(function*() {
      const lean = withExchange([acceptedAnswer], [{ status: 200, body: JSON.stringify({ id: "media-1" }) }])
      const layer = KaleyraClient.layer(baseOptions).pipe(Layer.provide(lean.httpLayer))
      const uploaded = yield* uploadMedia({ data: files.png(), filename: "a.png" }).pipe(Effect.provide(layer))
      assert.strictEqual(uploaded.id, "media-1")
      assert.strictEqual(lean.exchanged.length, 0)

      const transformed = withExchange([acceptedAnswer])
      yield* Effect.either(sendMedia(imageByLink)).pipe(
        Effect.provide(
          KaleyraClient.layer({ ...baseOptions, transformClient: (c) => c }).pipe(Layer.provide(transformed.httpLayer))
        )
      )
      assert.strictEqual(transformed.exchanged.length, 0)
      assert.strictEqual(transformed.seen.length, 1)
    }))

  it.live("failures map as through execute: never sent is retried, a body that failed is BodyReadFailed", () =>
    Effect.gen(function*() {
      const notSent = { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED", requestSent: false }) }
      const lean = withExchange([notSent, {
        cause: Object.assign(new Error("reset"), { code: "ECONNRESET", requestSent: true }),
        status: 202,
        contentType: "application/json"
      }])
      const layer = KaleyraClient.layer({ ...baseOptions, retryBaseDelay: "1 millis" }).pipe(
        Layer.provide(lean.httpLayer)
      )
      const outcome = yield* Effect.either(sendMedia(imageByLink)).pipe(Effect.provide(layer))
      assert.strictEqual(lean.exchanged.length, 2, "the refused attempt was retried")
      if (Either.isRight(outcome)) return assert.fail("expected a failure")
      const error = outcome.left
      assert.strictEqual(error._tag, "UnexpectedResponse")
      if (error._tag !== "UnexpectedResponse") return
      assert.strictEqual(error.reason, "BodyReadFailed")
      assert.strictEqual(error.status, 202)
      assert.isTrue(error.accepted)

      const refusedOnly = withExchange([notSent])
      const refused = yield* Effect.flip(sendMedia(imageByLink)).pipe(
        Effect.provide(
          KaleyraClient.layer({ ...baseOptions, retryBaseDelay: "1 millis", maxRetries: 1 }).pipe(
            Layer.provide(refusedOnly.httpLayer)
          )
        )
      )
      assert.strictEqual(refused._tag, "TransportError")
      if (refused._tag === "TransportError") {
        assert.strictEqual(refused.reason, "ConnectionRefused")
        assert.isFalse(refused.mayHaveReachedKaleyra)
      }
    }))
})
