import { HttpTransport } from "@effect-kaleyra/core"
import { HttpClientRequest } from "@effect/platform"
import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { Context, Layer } from "effect"
import { UndiciHttpClient } from "../src/index.js"
import { rawServer, waitUntil } from "./rawServer.js"

const client = Effect.map(Layer.build(UndiciHttpClient.layer), Context.get(HttpClient.HttpClient))
const withDeadline = <A, E, R>(effect: Effect.Effect<A, E, R>, millis: number) =>
  Effect.locally(effect, HttpTransport.currentTimeout, Duration.millis(millis))

describe("UndiciHttpClient enforces HttpTransport.currentTimeout natively", () => {
  it("is marked so that the Kaleyra client skips its generic timeout", () => {
    assert.isTrue(HttpTransport.hasNativeTimeout(UndiciHttpClient.make(new (class {})() as never)))
  })

  it.scopedLive("a server that never answers: ETIMEDOUT after the deadline, requestSent true, socket closed", () =>
    Effect.gen(function*() {
      const server = yield* rawServer(() => {})
      const http = yield* client
      const started = Date.now()
      const error = yield* Effect.flip(withDeadline(http.execute(HttpClientRequest.post(server.url)), 150))
      const elapsed = Date.now() - started
      assert.isTrue(elapsed >= 140 && elapsed < 2000, `elapsed ${elapsed}`)
      const cause = error.cause as UndiciHttpClient.TransportFailure
      assert.strictEqual(cause.code, "ETIMEDOUT")
      assert.isTrue(cause.requestSent)
      yield* waitUntil(() => server.aborted.count === 1)
    }))

  it.scopedLive("a body that stops half way fails reading once the deadline passes", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => {
        response.writeHead(202, { "content-type": "application/json", "content-length": "100" })
        response.write("{\"code\":")
      })
      const http = yield* client
      const text = yield* withDeadline(
        Effect.flatMap(http.execute(HttpClientRequest.post(server.url)), (response) => Effect.flip(response.text)),
        150
      )
      assert.strictEqual(text._tag, "ResponseError")
      assert.strictEqual((text.cause as UndiciHttpClient.TransportFailure).code, "ETIMEDOUT")
    }))

  it.scopedLive("no deadline set: no timer (a slow answer still arrives)", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => {
        setTimeout(() => response.end("late"), 200)
      })
      const http = yield* client
      const response = yield* http.execute(HttpClientRequest.get(server.url))
      assert.strictEqual(yield* response.text, "late")
    }))

  it.scopedLive("a fast answer clears the timer", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => response.end("ok"))
      const http = yield* client
      const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length
      const before = timers()
      for (let i = 0; i < 50; i++) {
        const response = yield* withDeadline(http.execute(HttpClientRequest.get(server.url)), 5_000)
        assert.strictEqual(yield* response.text, "ok")
      }
      // 50 uncleared 5-second deadlines would still be pending here (other tests' timers stay far below that)
      assert.isBelow(timers() - before, 25)
    }))
})
