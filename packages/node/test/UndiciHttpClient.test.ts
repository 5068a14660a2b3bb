import { KaleyraTransport } from "@effect-kaleyra/core"
import { HttpBody, HttpClient, HttpClientRequest } from "@effect/platform"
import type { HttpClientError } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Context, Effect, Exit, Fiber, Inspectable, Layer, Stream } from "effect"
import { createHash } from "node:crypto"
import { UndiciHttpClient } from "../src/index.js"
import * as UndiciTransport from "../src/UndiciTransport.js"
import { closedPort, rawServer, waitUntil } from "./rawServer.js"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const client = Effect.map(Layer.build(UndiciHttpClient.layer), Context.get(HttpClient.HttpClient))

const causeOf = (error: HttpClientError.HttpClientError) => {
  const cause = error.cause
  assert.instanceOf(cause, UndiciHttpClient.TransportFailure)
  return cause as UndiciHttpClient.TransportFailure
}

describe("UndiciHttpClient", () => {
  it.scopedLive("sends a JSON body and reads status, headers, text, json, arrayBuffer, stream and cookies", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response, seen) => {
        response.setHeader("content-type", "application/json")
        response.setHeader("set-cookie", ["a=1; Path=/", "b=2"])
        response.setHeader("x-multi", ["one", "two"])
        response.statusCode = 202
        const body = seen.body.toString("utf8")
        response.end(JSON.stringify({ echo: body === "" ? null : JSON.parse(body), url: seen.url }))
      })
      const http = yield* client
      const request = HttpClientRequest.post(`${server.url}/v2/sid/whatsapp/91/messages?x=1`).pipe(
        HttpClientRequest.bodyUnsafeJson({ hello: "wörld" }),
        HttpClientRequest.setHeader("api-key", "secret-key")
      )
      const response = yield* http.execute(request)
      assert.strictEqual(response.status, 202)
      assert.strictEqual(response.headers["content-type"], "application/json")
      assert.strictEqual(response.headers["x-multi"], "one, two")
      assert.deepStrictEqual(response.cookies.cookies.a?.value, "1")
      assert.deepStrictEqual(response.cookies.cookies.b?.value, "2")
      const json = yield* response.json
      assert.deepStrictEqual(json, { echo: { hello: "wörld" }, url: "/v2/sid/whatsapp/91/messages?x=1" })
      const text = yield* response.text
      assert.strictEqual(JSON.parse(text).echo.hello, "wörld")
      const buffer = yield* response.arrayBuffer
      assert.strictEqual(new TextDecoder().decode(buffer), text)
      assert.strictEqual(server.requests[0].headers["api-key"], "secret-key")
      assert.strictEqual(server.requests[0].headers["content-type"], "application/json")

      const streamed = yield* http.get(`${server.url}/stream`, { urlParams: { q: "a b" } }).pipe(
        Effect.flatMap((r) => Stream.runCollect(r.stream)),
        Effect.map((chunks) => Buffer.concat(Chunk.toArray(chunks)).toString("utf8"))
      )
      assert.include(streamed, "/stream?q=a+b")
    }))

  it.scopedLive("reads url-encoded and multipart response bodies", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((request, response) => {
        if (request.url === "/params") {
          response.setHeader("content-type", "application/x-www-form-urlencoded")
          response.end("a=1&b=two+words")
          return
        }
        response.setHeader("content-type", "multipart/form-data; boundary=XyZ")
        response.end("--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n--XyZ--\r\n")
      })
      const http = yield* client
      const params = yield* Effect.flatMap(http.get(`${server.url}/params`), (r) => r.urlParamsBody)
      assert.deepStrictEqual(params, [["a", "1"], ["b", "two words"]])
      const form = yield* Effect.flatMap(http.get(`${server.url}/form`), (r) => r.formData)
      assert.strictEqual(form.get("field"), "value")
    }))

  it.scopedLive("toJSON and inspect never show request headers", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => {
        response.setHeader("content-type", "text/plain")
        response.end("ok")
      })
      const http = yield* client
      const response = yield* http.execute(
        HttpClientRequest.get(server.url).pipe(HttpClientRequest.setHeader("api-key", "super-secret-value"))
      )
      yield* response.text
      const printed = Inspectable.format(response.toJSON()) + String(response)
      assert.notInclude(printed, "super-secret-value")
      assert.include(printed, "\"status\": 200")
    }))

  it.scopedLive("a global FormData upload arrives intact (fields and bytes)", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => response.end("{}"))
      const http = yield* client
      const bytes = new Uint8Array(200_000)
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) % 256
      const form = new FormData()
      form.append("type", "application/pdf")
      form.append("file", new File([bytes], "invoice.pdf", { type: "application/pdf" }))
      const response = yield* http.execute(
        HttpClientRequest.post(`${server.url}/upload`).pipe(
          HttpClientRequest.bodyFormData(form)
        )
      )
      assert.strictEqual(response.status, 200)
      const seen = server.requests[0]
      const contentType = seen.headers["content-type"] ?? ""
      assert.match(contentType, /^multipart\/form-data; boundary=/)
      const parsed = yield* Effect.promise(() =>
        new Response(new Uint8Array(seen.body), { headers: { "content-type": contentType } }).formData()
      )
      assert.strictEqual(parsed.get("type"), "application/pdf")
      const file = parsed.get("file")
      assert.instanceOf(file, Blob)
      assert.strictEqual((file as File).name, "invoice.pdf")
      const received = new Uint8Array(yield* Effect.promise(() => (file as File).arrayBuffer()))
      assert.strictEqual(sha256(received), sha256(bytes))
    }))

  it.scopedLive("a Stream body is sent (chunked) intact", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => response.end())
      const http = yield* client
      const parts = ["alpha-", "beta-", "gamma"].map((s) => new TextEncoder().encode(s))
      yield* http.execute(
        HttpClientRequest.post(`${server.url}/stream`).pipe(
          HttpClientRequest.setBody(HttpBody.stream(Stream.fromIterable(parts), "text/plain"))
        )
      )
      assert.strictEqual(server.requests[0].body.toString("utf8"), "alpha-beta-gamma")
      assert.strictEqual(server.requests[0].headers["transfer-encoding"], "chunked")
    }))

  it.scopedLive("connection refused: RequestError Transport, ECONNREFUSED, requestSent false", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const http = yield* client
      const error = yield* Effect.flip(http.get(`http://127.0.0.1:${port}/x`))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "Transport")
      const cause = causeOf(error)
      assert.strictEqual(cause.code, "ECONNREFUSED")
      assert.isFalse(cause.requestSent)
    }))

  it.scopedLive("a socket destroyed after the whole request was read: requestSent true", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((request) => request.socket.destroy())
      const http = yield* client
      const error = yield* Effect.flip(http.post(`${server.url}/x`, { body: HttpBody.text("{\"a\":1}") }))
      assert.strictEqual(error._tag, "RequestError")
      const cause = causeOf(error)
      assert.isTrue(cause.requestSent)
      assert.isString(cause.code)
      assert.strictEqual(server.requests.length, 1)
    }))

  it.scopedLive("a socket destroyed while the body streams in: ResponseError Decode", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => {
        response.writeHead(200, { "content-type": "text/plain", "content-length": "100" })
        response.write("partial")
        setTimeout(() => response.socket?.destroy(), 20)
      })
      const http = yield* client
      const response = yield* http.get(server.url)
      const error = yield* Effect.flip(response.text)
      assert.strictEqual(error._tag, "ResponseError")
      assert.strictEqual(error.reason, "Decode")
      assert.isTrue(causeOf(error).requestSent)
    }))

  it.scopedLive("interrupting a request in flight closes its connection", () =>
    Effect.gen(function*() {
      const server = yield* rawServer(() => {
        // never answers
      })
      const http = yield* client
      const fiber = yield* Effect.fork(http.post(`${server.url}/hang`, { body: HttpBody.text("x") }))
      yield* waitUntil(() => server.requests.length === 1)
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      yield* waitUntil(() => server.aborted.count === 1)
    }))

  it.scopedLive("interrupting while reading the body aborts the response", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" })
        response.write("first chunk")
      })
      const http = yield* client
      const response = yield* http.get(server.url)
      const fiber = yield* Effect.fork(response.text)
      yield* Effect.sleep("20 millis")
      yield* Fiber.interrupt(fiber)
      yield* waitUntil(() => server.aborted.count === 1)
    }))

  describe("UndiciTransport, on the same dispatch", () => {
    const exchangeOf = Effect.map(
      Layer.build(UndiciTransport.layer),
      (context) => Context.get(context, KaleyraTransport.KaleyraTransport).send
    )
    const post = (url: string, body = "{}", timeoutMillis = 5_000): KaleyraTransport.Request => ({
      method: "POST",
      url,
      headers: { "content-type": "application/json", "api-key": "secret-key" },
      body,
      timeoutMillis
    })

    it.scopedLive("sends the body as UTF-8 with its headers, and reads status, content-type, retry-after and text", () =>
      Effect.gen(function*() {
        const server = yield* rawServer((_request, response, seen) => {
          response.writeHead(429, { "Content-Type": "application/json", "Retry-After": "7", "X-Other": "y" })
          response.end(JSON.stringify({ echo: seen.body.toString("utf8") }))
        })
        const exchange = yield* exchangeOf
        const response = yield* exchange(post(`${server.url}/v2/messages`, JSON.stringify({ caption: "wörld ✓" })))
        assert.deepStrictEqual(response, {
          status: 429,
          contentType: "application/json",
          retryAfter: "7",
          body: JSON.stringify({ echo: JSON.stringify({ caption: "wörld ✓" }) })
        })
        const seen = server.requests[0]
        assert.strictEqual(seen.url, "/v2/messages")
        assert.strictEqual(seen.headers["api-key"], "secret-key")
        assert.strictEqual(seen.headers["content-type"], "application/json")
        assert.strictEqual(
          seen.headers["content-length"],
          String(Buffer.byteLength(JSON.stringify({ caption: "wörld ✓" })))
        )
      }))

    it.scopedLive("a body over MAX_RESPONSE_BYTES is not read: body undefined, the connection closed", () =>
      Effect.gen(function*() {
        const server = yield* rawServer((_request, response) => {
          response.writeHead(200, { "content-type": "text/plain" })
          const chunk = Buffer.alloc(64 * 1024, 97)
          // About 4 MiB, written as long as the client reads.
          let left = 64
          const write = () => {
            while (left > 0) {
              left--
              if (!response.write(chunk)) return response.once("drain", write)
            }
            response.end()
          }
          write()
        })
        const exchange = yield* exchangeOf
        const response = yield* exchange(post(server.url))
        assert.strictEqual(response.status, 200)
        assert.isUndefined(response.body)
        yield* waitUntil(() => server.aborted.count === 1)
      }))

    it.scopedLive("fibers sending one request after another reuse their connections: no more than are in flight", () =>
      Effect.gen(function*() {
        const server = yield* rawServer((_request, response) => {
          response.writeHead(202, { "content-type": "application/json" })
          response.end("{}")
        })
        const exchange = yield* exchangeOf
        const fibers = 8
        const results = yield* Effect.all(
          Array.from({ length: fibers }, () => Effect.replicateEffect(exchange(post(server.url)), 200)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(results.flat().length, fibers * 200)
        assert.strictEqual(server.requests.length, fibers * 200)
        // Resumed before undici released its connection, a fiber's next request finds it busy and the pool opens another
        // one: 13 connections here. Resumed after, 9 (one more than the fibers, every run).
        assert.isAtMost(server.connections.count, fibers + 1)
      }))

    it.scopedLive("a deadline longer than Node's timers take (50 days) is clamped, not fired at once", () =>
      Effect.gen(function*() {
        const server = yield* rawServer((_request, response) => {
          setTimeout(() => response.writeHead(202, { "content-type": "application/json" }).end("{}"), 50)
        })
        const exchange = yield* exchangeOf
        const response = yield* exchange(post(server.url, "{}", 50 * 24 * 3600 * 1000))
        assert.strictEqual(response.status, 202)
      }))

    it.scopedLive("a connection refused fails before any response, never sent", () =>
      Effect.gen(function*() {
        const exchange = yield* exchangeOf
        const failure = yield* Effect.flip(exchange(post(`http://127.0.0.1:${yield* closedPort}/x`)))
        assert.isUndefined(failure.status)
        assert.instanceOf(failure.cause, UndiciHttpClient.TransportFailure)
        const cause = failure.cause as UndiciHttpClient.TransportFailure
        assert.strictEqual(cause.code, "ECONNREFUSED")
        assert.isFalse(cause.requestSent)
      }))

    it.scopedLive("the deadline while the body is arriving: a failure with the status, ETIMEDOUT, sent", () =>
      Effect.gen(function*() {
        const server = yield* rawServer((_request, response) => {
          response.writeHead(202, { "content-type": "application/json" })
          response.write("{\"data\"")
        })
        const exchange = yield* exchangeOf
        const failure = yield* Effect.flip(exchange(post(server.url, "{}", 200)))
        assert.strictEqual(failure.status, 202)
        assert.strictEqual(failure.contentType, "application/json")
        const cause = failure.cause as UndiciHttpClient.TransportFailure
        assert.strictEqual(cause.code, "ETIMEDOUT")
        assert.isTrue(cause.requestSent)
        yield* waitUntil(() => server.aborted.count === 1)
      }))

    it.scopedLive("interrupting an exchange in flight closes its connection", () =>
      Effect.gen(function*() {
        const server = yield* rawServer(() => {
          // never answers
        })
        const exchange = yield* exchangeOf
        const fiber = yield* Effect.fork(exchange(post(`${server.url}/hang`)))
        yield* waitUntil(() => server.requests.length === 1)
        const exit = yield* Fiber.interrupt(fiber)
        assert.isTrue(Exit.isInterrupted(exit))
        yield* waitUntil(() => server.aborted.count === 1)
      }))

    it.scopedLive("interruption aborts at once, not when the fiber's finalizers are done", () =>
      Effect.gen(function*() {
        const server = yield* rawServer(() => {
          // never answers
        })
        const exchange = yield* exchangeOf
        const fiber = yield* Effect.fork(
          Effect.onInterrupt(exchange(post(`${server.url}/hang`, "{}", 10_000)), () => Effect.sleep("3 seconds"))
        )
        yield* waitUntil(() => server.requests.length === 1)
        const started = Date.now()
        yield* Effect.fork(Fiber.interrupt(fiber))
        yield* waitUntil(() => server.aborted.count === 1, 1_000)
        assert.isBelow(Date.now() - started, 1_000)
      }))

    it.effect("a URL it cannot send to fails before anything is sent", () =>
      Effect.gen(function*() {
        const exchange = yield* Effect.scoped(exchangeOf)
        const failure = yield* Effect.flip(exchange(post("ftp://example.com/x")))
        assert.isUndefined(failure.status)
        assert.isFalse((failure.cause as UndiciHttpClient.TransportFailure).requestSent)
      }))
  })

  it.scopedLive("an invalid URL is a RequestError InvalidUrl", () =>
    Effect.gen(function*() {
      const http = yield* client
      const error = yield* Effect.flip(http.get("ftp://example.com/x"))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error.reason, "InvalidUrl")
    }))

  it.scopedLive("paths that need normalising go through the URL parser", () =>
    Effect.gen(function*() {
      const server = yield* rawServer((_request, response) => response.end())
      const http = yield* client
      yield* http.get(`${server.url}/a/../b/c d#frag`)
      assert.strictEqual(server.requests[0].url, "/b/c%20d")
    }))
})
