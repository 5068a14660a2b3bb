import { KaleyraTransport } from "@effect-kaleyra/core"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { Context, Layer } from "effect"
import type { UndiciHttpClient } from "../src/index.js"
import * as UndiciTransport from "../src/UndiciTransport.js"
import { rawServer, waitUntil } from "./rawServer.js"

const client = Effect.map(Layer.build(UndiciTransport.layer), Context.get(KaleyraTransport.KaleyraTransport))
/** Requests through one transport, each with a deadline of `millis`. */
const sender = Effect.map(
  client,
  (transport) => (url: string, millis: number, method = "POST") =>
    transport.send({ method, url, headers: {}, body: "", timeoutMillis: millis })
)

describe("UndiciTransport enforces each request's deadline in the dispatch itself", () => {
  it.scopedLive("a server that never answers: ETIMEDOUT after the deadline, requestSent true, socket closed", () =>
    Effect.gen(function*() {
      const request = yield* sender
      const server = yield* rawServer(() => {})
      const started = Date.now()
      const error = yield* Effect.flip(request(server.url, 150))
      const elapsed = Date.now() - started
      assert.isTrue(elapsed >= 140 && elapsed < 2000, `elapsed ${elapsed}`)
      const cause = error.cause as UndiciHttpClient.TransportFailure
      assert.strictEqual(cause.code, "ETIMEDOUT")
      assert.isTrue(cause.requestSent)
      yield* waitUntil(() => server.aborted.count === 1)
    }))

  it.scopedLive("a body that stops half way fails reading once the deadline passes", () =>
    Effect.gen(function*() {
      const request = yield* sender
      const server = yield* rawServer((_request, response) => {
        response.writeHead(202, { "content-type": "application/json", "content-length": "100" })
        response.write("{\"code\":")
      })
      const failure = yield* Effect.flip(request(server.url, 150))
      assert.strictEqual(failure.status, 202, "the status had arrived")
      assert.strictEqual((failure.cause as UndiciHttpClient.TransportFailure).code, "ETIMEDOUT")
    }))

  it.scopedLive("its HttpClient has no deadline of its own (a slow answer still arrives)", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => {
        setTimeout(() => response.end("late"), 200)
      })
      const http = (yield* client).httpClient
      const response = yield* http.execute(HttpClientRequest.get(server.url))
      assert.strictEqual(yield* response.text, "late")
    }))

  it.scopedLive("a fast answer clears the timer", () =>
    Effect.gen(function*() {
      const request = yield* sender
      const server = yield* rawServer((_request, response) => response.end("ok"))
      const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length
      const before = timers()
      for (let i = 0; i < 50; i++) {
        const response = yield* request(server.url, 5_000, "GET")
        assert.strictEqual(response.body, "ok")
      }
      // 50 uncleared 5-second deadlines would still be pending here (other tests' timers stay far below that)
      assert.isBelow(timers() - before, 25)
    }))

  it.scopedLive("concurrent requests each time out at their own deadline", () =>
    Effect.gen(function*() {
      const request = yield* sender
      // Answers the requests whose path ends in "ok", never the others.
      const server = yield* rawServer((request, response) => {
        if (request.url?.endsWith("ok")) response.end("ok")
      })
      const attempt = (path: string, delayMillis: number) =>
        Effect.delay(
          Effect.suspend(() => {
            const started = Date.now()
            return request(`${server.url}/${path}`, 300, "GET").pipe(
              Effect.map((response) => response.body),
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
      const request = yield* sender
      const server = yield* rawServer(() => {})
      const timed = (millis: number) =>
        Effect.suspend(() => {
          const started = Date.now()
          return Effect.map(
            Effect.flip(request(server.url, millis)),
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
