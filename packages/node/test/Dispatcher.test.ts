/**
 * A dispatcher destroyed under a send that waits for its answer (a deploy disposing the runtime, a user's own undici
 * `Agent` destroyed): the server has the request, so the send is ambiguous (`mayHaveReachedKaleyra: true`) and never
 * retried, whatever the error's code (`UND_ERR_DESTROYED`). Over real loopback sockets.
 */
import {
  KaleyraClient,
  KaleyraError,
  type KaleyraEvent,
  KaleyraEvents,
  MediaMessage,
  sendMedia,
  type SendMediaError,
  type SendMediaResult
} from "@effect-kaleyra/core"
import { KaleyraTransport } from "@effect-kaleyra/core"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Layer, ManagedRuntime, Queue, Stream } from "effect"
import { Agent } from "undici"
import { KaleyraNode, UndiciHttpClient } from "../src/index.js"
import * as UndiciTransport from "../src/UndiciTransport.js"
import { rawServer, waitUntil } from "./rawServer.js"
import { clientOptions } from "./utils.js"

const message = MediaMessage.image({ to: "+919876543210", link: "https://example.com/a.png" })

/** A server that reads each request whole and never answers. */
const silentServer = rawServer(() => {
  // never answers
})

const assertAmbiguous = (exit: Exit.Exit<SendMediaResult, unknown>) => {
  assert.isTrue(Exit.isFailure(exit), "the send failed")
  if (Exit.isSuccess(exit)) return
  assert.strictEqual(exit.cause._tag, "Fail", String(exit.cause))
  if (exit.cause._tag !== "Fail") return
  const error = exit.cause.error as SendMediaError
  assert.strictEqual(error._tag, "TransportError")
  if (error._tag !== "TransportError") return
  assert.isTrue(error.mayHaveReachedKaleyra, error.message)
  assert.isFalse(KaleyraError.isRetryable(error))
  assert.include(error.message, "may have reached Kaleyra")
}

/** Sends through a runtime built from `layer`, and disposes the runtime once the server has read the request. */
const disposedMidSend = (
  layer: (url: string) => Layer.Layer<KaleyraClient, unknown>
) =>
  Effect.gen(function*() {
    const server = yield* silentServer
    const runtime = ManagedRuntime.make(layer(server.url))
    const sending = runtime.runPromiseExit(sendMedia(message))
    yield* waitUntil(() => server.requests.length === 1)
    yield* Effect.promise(() => runtime.dispose())
    const exit = yield* Effect.promise(() => sending)
    // No retry reached the server (nor could one: the dispatcher is gone), and none was attempted.
    assert.strictEqual(server.requests.length, 1)
    return exit
  })

describe("a dispatcher destroyed under a send waiting for its answer", () => {
  const options = (url: string) => clientOptions(url, { maxRetries: 2, retryBaseDelay: "1 millis" })

  it.scopedLive("a ManagedRuntime built from KaleyraNode.layer, disposed mid-send: may have reached, not retried", () =>
    Effect.map(disposedMidSend((url) => KaleyraNode.layer(options(url))), assertAmbiguous))

  it.scopedLive("the same over the stock HttpClient (KaleyraNode.layerStock): judged by its code, ambiguous", () =>
    Effect.map(disposedMidSend((url) => KaleyraNode.layerStock(options(url))), assertAmbiguous))

  for (const via of ["exchange", "execute"] as const) {
    it.scopedLive(`a user's own undici Agent destroyed (sends through its ${via}): may have reached, not retried`, () =>
      Effect.gen(function*() {
        const server = yield* silentServer
        const agent = new Agent()
        yield* Effect.addFinalizer(() => Effect.promise(() => agent.destroy()))
        const lean = UndiciTransport.make(agent)
        // `transformClient` makes the client send through the generic transport over the same dispatcher.
        const client = KaleyraClient.layer({
          ...options(server.url),
          ...(via === "execute" ? { transformClient: (client: HttpClient.HttpClient) => client } : {})
        }).pipe(
          Layer.provide(Layer.succeed(KaleyraTransport.KaleyraTransport, lean)),
          Layer.provideMerge(KaleyraEvents.layer())
        )
        const context = yield* Layer.build(client)
        const events = yield* Effect.provide(Effect.flatMap(KaleyraEvents, (events) => events.subscribe), context)
        const fiber = yield* Effect.fork(Effect.exit(Effect.provide(sendMedia(message), context)))
        yield* waitUntil(() => server.requests.length === 1)
        yield* Effect.promise(() => agent.destroy())
        assertAmbiguous(yield* Fiber.join(fiber))
        const seen: ReadonlyArray<KaleyraEvent> = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
        assert.deepStrictEqual(seen.map((event) => event._tag), ["SendFailed"], "no RetryScheduled")
        const failed = seen[0]
        assert.strictEqual(failed._tag === "SendFailed" && failed.attempts, 1)
        assert.strictEqual(server.requests.length, 1)
      }))
  }

  it.scopedLive("the transport's own account: requestSent true, whatever the code (UND_ERR_DESTROYED)", () =>
    Effect.gen(function*() {
      const server = yield* silentServer
      const agent = new Agent()
      const fiber = yield* Effect.fork(Effect.flip(
        UndiciTransport.make(agent).send({
          method: "POST",
          url: `${server.url}/x`,
          headers: { "content-type": "application/json" },
          body: "{}",
          timeoutMillis: 5_000
        })
      ))
      yield* waitUntil(() => server.requests.length === 1)
      yield* Effect.promise(() => agent.destroy())
      const failure = yield* Fiber.join(fiber)
      const cause = failure.cause as UndiciHttpClient.TransportFailure
      assert.instanceOf(cause, UndiciHttpClient.TransportFailure)
      assert.strictEqual(cause.code, "UND_ERR_DESTROYED")
      assert.isTrue(cause.requestSent)
    }))
})

describe("a request whose streamed body fails after it was written (node:http, reason Encode)", () => {
  it.scopedLive("the server read it whole: may have reached, not retried", () =>
    Effect.gen(function*() {
      const server = yield* silentServer
      const { NodeHttpClient } = yield* Effect.promise(() => import("@effect/platform-node"))
      const body = new TextEncoder().encode("{\"note\":\"all of it\"}")
      // The whole body (its length announced) is written, then the source fails: node:http's client calls that an
      // Encode error, yet the server has a complete request. The body is swapped in by a `transformClient`.
      const streamed = HttpClient.mapRequest(
        HttpClientRequest.bodyStream(Stream.concat(Stream.make(body), Stream.fail(new Error("the source failed"))), {
          contentType: "application/json",
          contentLength: body.length
        })
      )
      const context = yield* Layer.build(
        KaleyraClient.layer(
          clientOptions(server.url, { maxRetries: 2, retryBaseDelay: "1 millis", transformClient: streamed })
        ).pipe(Layer.provide(KaleyraTransport.layer), Layer.provide(NodeHttpClient.layer))
      )
      const error = yield* Effect.flip(Effect.provide(sendMedia(message), context))
      yield* waitUntil(() => server.requests.length >= 1)
      assert.strictEqual(server.requests[0].body.toString(), "{\"note\":\"all of it\"}")
      assert.strictEqual(error._tag, "TransportError")
      if (error._tag !== "TransportError") return
      assert.isTrue(error.mayHaveReachedKaleyra, error.message)
      assert.strictEqual(server.requests.length, 1, "not retried")
    }))
})
