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

  it.scopedLive("concurrent requests each time out at their own deadline", () =>
    Effect.gen(function*() {
      // Answers the requests whose path ends in "ok", never the others.
      const server = yield* rawServer((request, response) => {
        if (request.url?.endsWith("ok")) response.end("ok")
      })
      const http = yield* client
      const attempt = (path: string, delayMillis: number) =>
        Effect.delay(
          Effect.suspend(() => {
            const started = Date.now()
            return withDeadline(http.execute(HttpClientRequest.get(`${server.url}/${path}`)), 300).pipe(
              Effect.flatMap((response) => response.text),
              Effect.either,
              Effect.map((outcome) => ({ outcome, elapsed: Date.now() - started }))
            )
          }),
          Duration.millis(delayMillis)
        )
      // Started 0, 100 and 200 ms apart: silent ones must fail 300 ms after their own start, not the first one's.
      const results = yield* Effect.all([
        attempt("silent-1", 0),
        attempt("ok", 50),
        attempt("silent-2", 100),
        attempt("ok", 150),
        attempt("silent-3", 200)
      ], { concurrency: "unbounded" })
      for (const [i, { elapsed, outcome }] of results.entries()) {
        if (i % 2 === 1) {
          assert.deepStrictEqual(outcome._tag === "Right" ? outcome.right : outcome.left, "ok")
        } else {
          assert.strictEqual(outcome._tag, "Left", `request ${i}`)
          const cause = outcome._tag === "Left" ? outcome.left.cause as UndiciHttpClient.TransportFailure : undefined
          assert.strictEqual(cause?.code, "ETIMEDOUT")
          assert.isTrue(elapsed >= 290 && elapsed < 450, `request ${i} failed after ${elapsed} ms`)
        }
      }
    }))

  it.scopedLive("requests with different deadlines, concurrently: each gets its own", () =>
    Effect.gen(function*() {
      const server = yield* rawServer(() => {})
      const http = yield* client
      const timed = (millis: number) =>
        Effect.suspend(() => {
          const started = Date.now()
          return Effect.map(
            Effect.flip(withDeadline(http.execute(HttpClientRequest.post(server.url)), millis)),
            (error) => ({
              code: (error.cause as UndiciHttpClient.TransportFailure).code,
              elapsed: Date.now() - started
            })
          )
        })
      const [long, short] = yield* Effect.all([timed(400), timed(100)], { concurrency: "unbounded" })
      assert.strictEqual(short.code, "ETIMEDOUT")
      assert.isTrue(short.elapsed >= 90 && short.elapsed < 380, `short failed after ${short.elapsed} ms`)
      assert.strictEqual(long.code, "ETIMEDOUT")
      assert.isTrue(long.elapsed >= 390, `long failed after ${long.elapsed} ms`)
    }))
})
