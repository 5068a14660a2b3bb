import {
  awaitStatus,
  KaleyraCallback,
  type KaleyraEvent,
  KaleyraEvents,
  MediaMessage,
  sendMedia
} from "@effect-kaleyra/core"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { HttpApp, HttpRouter, HttpServerResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, FastCheck, Layer, Logger, LogLevel, Queue, Redacted, Runtime, type Scope } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import * as Receiver from "../src/CallbackReceiver.js"
import { KaleyraNode } from "../src/index.js"
import { type Answer, type RawRequest, rawRequest } from "./rawClient.js"
import { API_KEY, clientOptions, SID } from "./utils.js"

const SECRET = "cb-secret-9d1e4f7a2b-do-not-print"
const PATH = "/kaleyra/callbacks"

const FIXTURES = new URL("../../core/test/fixtures/callbacks/", import.meta.url)
const fixtureNames = readdirSync(FIXTURES).filter((name) => name.endsWith(".json")).map((name) => name.slice(0, -5))
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), "utf8"))

interface Send extends RawRequest {
  readonly path?: string
}

/** One request on a fresh connection. */
const send = (origin: string, options: Send = {}): Effect.Effect<Answer, Error> =>
  rawRequest(`${origin}${options.path ?? PATH}`, options)

const json = { "content-type": "application/json" }
const withSecret = { ...json, "x-kaleyra-secret": SECRET }
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`

/** A receiver on a loopback port, its own `KaleyraEvents`, and a subscription to it. */
const receiver = (options: Partial<Receiver.Options> = {}) =>
  Effect.gen(function*() {
    const events = yield* KaleyraEvents.make()
    const queue = yield* events.subscribe
    const served = yield* Receiver.serve({ secret: Redacted.make(SECRET), ...options }).pipe(
      Effect.provideService(KaleyraEvents, events)
    )
    const published = Effect.map(Queue.takeAll(queue), (chunk) => Chunk.toReadonlyArray(chunk))
    return { ...served, events, queue, published }
  })

const expected = (payload: unknown): ReadonlyArray<KaleyraEvent> =>
  Either.getOrThrow(KaleyraCallback.decodeCallbacks(payload))

describe("CallbackReceiver", () => {
  describe("accepted callbacks", () => {
    it("the fixtures are there", () => {
      assert.isAtLeast(fixtureNames.length, 12)
    })

    for (const name of fixtureNames) {
      it.scopedLive(`POST ${name} -> 200 and its events`, () =>
        Effect.gen(function*() {
          const { origin, published } = yield* receiver()
          const answer = yield* send(origin, { headers: withSecret, body: JSON.stringify(fixture(name)) })
          assert.strictEqual(answer.status, 200)
          assert.deepStrictEqual(JSON.parse(answer.body), { ok: true, accepted: expected(fixture(name)).length })
          assert.strictEqual(answer.headers["content-type"], "application/json")
          assert.deepStrictEqual(yield* published, expected(fixture(name)))
        }))
    }

    it.scopedLive("an unknown status among known ones: 200, the known ones published, the answer says what was left out", () =>
      Effect.gen(function*() {
        const { origin, published } = yield* receiver()
        const base = fixture("v2-read") as { meta_object: { value: { statuses: Array<Record<string, unknown>> } } }
        const status = base.meta_object.value.statuses[0]
        const statuses = [
          { ...status, id: "wamid.a", status: "sent" },
          { ...status, id: "wamid.b", status: "deleted" },
          { ...status, id: "wamid.c", status: "read" }
        ]
        const body = { ...base, meta_object: { ...base.meta_object, value: { ...base.meta_object.value, statuses } } }
        const answer = yield* send(origin, { headers: withSecret, body: JSON.stringify(body) })
        assert.strictEqual(answer.status, 200, answer.body)
        const parsed = JSON.parse(answer.body)
        assert.strictEqual(parsed.ok, true)
        assert.strictEqual(parsed.accepted, 2)
        assert.strictEqual(parsed.rejected.length, 1)
        assert.include(parsed.rejected[0], "statuses[1]")
        assert.include(parsed.rejected[0], "deleted")
        const events = yield* published
        assert.deepStrictEqual(
          events.map((event) => event._tag === "MessageStatusUpdated" && `${event.messageId} ${event.status}`),
          ["wamid.a sent", "wamid.c read"]
        )
      }))

    it.scopedLive("GET with the flat dynamic variables in the query string", () =>
      Effect.gen(function*() {
        const { origin, published } = yield* receiver()
        const payload = fixture("flat-status-get") as Record<string, string>
        const query = new URLSearchParams(payload).toString()
        const answer = yield* send(origin, {
          method: "GET",
          path: `${PATH}?${query}`,
          headers: { "x-kaleyra-secret": SECRET }
        })
        assert.strictEqual(answer.status, 200)
        const events = yield* published
        assert.deepStrictEqual(events, expected(payload))
        assert.strictEqual(events[0]._tag === "MessageStatusUpdated" && events[0].status, "delivered")
      }))

    it.scopedLive("POST as application/x-www-form-urlencoded", () =>
      Effect.gen(function*() {
        const { origin, published } = yield* receiver()
        const payload = fixture("flat-status-failed") as Record<string, string>
        const answer = yield* send(origin, {
          headers: { "content-type": "application/x-www-form-urlencoded", "x-kaleyra-secret": SECRET },
          body: new URLSearchParams(payload).toString()
        })
        assert.strictEqual(answer.status, 200)
        assert.deepStrictEqual(yield* published, expected(payload))
      }))

    it.scopedLive("the events reach awaitStatus", () =>
      Effect.gen(function*() {
        const { events, origin } = yield* receiver()
        const waiting = yield* Effect.fork(events.awaitStatus("wamid.HBgMOTE5NDA3MDAwMDAwFQIAERgS", "delivered"))
        yield* send(origin, { headers: withSecret, body: JSON.stringify(fixture("v2-read")) })
        const reached = yield* waiting.await
        assert.strictEqual(reached._tag, "Success")
      }))

    it.scopedLive("HTTP Basic auth: the password is the secret (any user name)", () =>
      Effect.gen(function*() {
        const { origin, published } = yield* receiver()
        const body = JSON.stringify(fixture("v2-sent"))
        const ok = yield* send(origin, { headers: { ...json, authorization: basic("kaleyra", SECRET) }, body })
        assert.strictEqual(ok.status, 200)
        assert.strictEqual((yield* published).length, 1)
        const wrong = yield* send(origin, { headers: { ...json, authorization: basic(SECRET, "nope") }, body })
        assert.strictEqual(wrong.status, 401)
        const garbage = yield* send(origin, { headers: { ...json, authorization: "Basic !!!" }, body })
        assert.strictEqual(garbage.status, 401)
        assert.strictEqual((yield* published).length, 0)
      }))

    it.scopedLive("a custom secret header and path; the router mounts in another app", () =>
      Effect.gen(function*() {
        const { origin, published, url } = yield* receiver({ secretHeader: "X-Hook-Token", path: "/hooks/kaleyra" })
        assert.strictEqual(url, `${origin}/hooks/kaleyra`)
        const body = JSON.stringify(fixture("v2-sent"))
        const ok = yield* send(origin, { path: "/hooks/kaleyra", headers: { ...json, "x-hook-token": SECRET }, body })
        assert.strictEqual(ok.status, 200)
        const defaultHeader = yield* send(origin, { path: "/hooks/kaleyra", headers: withSecret, body })
        assert.strictEqual(defaultHeader.status, 401)
        const otherPath = yield* send(origin, { path: PATH, headers: withSecret, body })
        assert.strictEqual(otherPath.status, 404)
        assert.strictEqual((yield* published).length, 1)
      }))
  })

  describe("rejected requests", () => {
    it.scopedLive("a missing or wrong secret is a 401, before the body is read, and nothing is published", () =>
      Effect.gen(function*() {
        const logs: Array<string> = []
        const logger = Logger.make(({ annotations, message }) => {
          logs.push(JSON.stringify({ message, annotations: [...annotations] }))
        })
        const { origin, published } = yield* receiver().pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        const body = JSON.stringify(fixture("v2-sent"))
        for (
          const headers of [
            json,
            { ...json, "x-kaleyra-secret": "" },
            { ...json, "x-kaleyra-secret": "wrong" },
            { ...json, "x-kaleyra-secret": SECRET.slice(0, -1) },
            { ...json, "x-kaleyra-secret": `${SECRET}x` },
            { ...json, "x-kaleyra-secret": SECRET.toUpperCase() }
          ]
        ) {
          const answer = yield* send(origin, { headers, body })
          assert.strictEqual(answer.status, 401)
          assert.notInclude(answer.body, SECRET)
          assert.include(String(answer.headers["www-authenticate"]), "Basic")
        }
        // Refused before reading: even a body over the limit is a 401.
        const large = yield* send(origin, { headers: json, body: "x".repeat(2 * 1024 * 1024) })
        assert.strictEqual(large.status, 401)
        assert.strictEqual((yield* published).length, 0)
        assert.isAbove(logs.length, 0)
        for (const line of logs) assert.notInclude(line, SECRET)
      }))

    it.scopedLive("a refused callback is logged at Warning with the reason, never with the secret", () =>
      Effect.gen(function*() {
        const warnings: Array<string> = []
        const logger = Logger.make(({ annotations, logLevel, message }) => {
          if (logLevel._tag === "Warning") warnings.push(JSON.stringify({ message, annotations: [...annotations] }))
        })
        const { origin } = yield* receiver().pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
        const body = JSON.stringify(fixture("v2-sent"))
        const refused = [
          yield* send(origin, { headers: { ...json, "x-kaleyra-secret": `${SECRET}x` }, body }),
          yield* send(origin, { headers: { ...json, authorization: basic("kaleyra", SECRET.slice(1)) }, body }),
          yield* send(origin, { headers: withSecret, body: "{not json" }),
          yield* send(origin, { headers: withSecret, body: `{"id":"x","status":"exploded"}` })
        ]
        assert.deepStrictEqual(refused.map((answer) => answer.status), [401, 401, 400, 400])
        assert.strictEqual(warnings.length, 4, warnings.join("\n"))
        assert.include(warnings[0], "wrong secret")
        assert.include(warnings[2], "not JSON")
        assert.include(warnings[3], "exploded")
        for (const line of warnings) assert.notInclude(line, SECRET.slice(1, 12))
      }))

    it.scopedLive("an empty secret refuses everything", () =>
      Effect.gen(function*() {
        const { origin } = yield* receiver({ secret: Redacted.make("") })
        const answer = yield* send(origin, {
          headers: { ...json, "x-kaleyra-secret": "" },
          body: JSON.stringify(fixture("v2-sent"))
        })
        assert.strictEqual(answer.status, 401)
      }))

    it.scopedLive("1 MiB + 1 is a 413 (declared or chunked); exactly 1 MiB is read", () =>
      Effect.gen(function*() {
        const { origin, published } = yield* receiver()
        const limit = 1024 * 1024
        const declared = yield* send(origin, { headers: withSecret, body: "x".repeat(limit + 1) })
        assert.strictEqual(declared.status, 413)
        const chunked = yield* send(origin, { headers: withSecret, body: "x".repeat(limit + 1), chunked: true })
        assert.strictEqual(chunked.status, 413)
        const much = yield* send(origin, { headers: withSecret, body: "x".repeat(3 * limit), chunked: true })
        assert.strictEqual(much.status, 413)
        // A callback padded to exactly the limit is accepted.
        const callback = JSON.stringify(fixture("v2-sent"))
        const padded = callback.slice(0, -1) + `,"pad":"${"p".repeat(limit - callback.length - 9)}"}`
        assert.strictEqual(Buffer.byteLength(padded), limit)
        const exact = yield* send(origin, { headers: withSecret, body: padded, chunked: true })
        assert.strictEqual(exact.status, 200)
        assert.strictEqual((yield* published).length, 1)
        // The server still answers on new connections.
        const after = yield* send(origin, { headers: withSecret, body: JSON.stringify(fixture("v2-read")) })
        assert.strictEqual(after.status, 200)
      }))

    it.scopedLive("maxBodyBytes sets the limit", () =>
      Effect.gen(function*() {
        const { origin } = yield* receiver({ maxBodyBytes: 100 })
        const answer = yield* send(origin, { headers: withSecret, body: JSON.stringify(fixture("v2-sent")) })
        assert.strictEqual(answer.status, 413)
      }))

    it.scopedLive("bad JSON, not a callback, not UTF-8, empty: 400 and nothing published", () =>
      Effect.gen(function*() {
        const { origin, published } = yield* receiver()
        for (
          const body of [
            "{not json",
            `{"hello":"world"}`,
            "[]",
            "null",
            "42",
            "",
            `{"meta_object":{"value":{}}}`,
            `{"id":"x","status":"exploded"}`,
            new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])
          ]
        ) {
          const answer = yield* send(origin, { headers: withSecret, body })
          assert.strictEqual(answer.status, 400, String(body))
          assert.include(answer.body, `"ok":false`)
        }
        const emptyGet = yield* send(origin, { method: "GET", headers: withSecret })
        assert.strictEqual(emptyGet.status, 400)
        const emptyForm = yield* send(origin, {
          headers: { "content-type": "application/x-www-form-urlencoded", "x-kaleyra-secret": SECRET },
          body: ""
        })
        assert.strictEqual(emptyForm.status, 400)
        assert.strictEqual((yield* published).length, 0)
      }))

    it.scopedLive("other methods are a 405 with Allow", () =>
      Effect.gen(function*() {
        const { origin } = yield* receiver()
        for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) {
          const answer = yield* send(origin, { method, headers: withSecret })
          assert.strictEqual(answer.status, 405, method)
          assert.strictEqual(answer.headers["allow"], "GET, POST")
        }
      }))

    it.scopedLive("a taken port is a ServeError", () =>
      Effect.gen(function*() {
        const { port } = yield* receiver()
        const events = yield* KaleyraEvents.make()
        const error = yield* Effect.flip(
          Receiver.serve({ secret: Redacted.make(SECRET), port }).pipe(Effect.provideService(KaleyraEvents, events))
        )
        assert.strictEqual(error._tag, "ServeError")
        assert.strictEqual(error.code, "EADDRINUSE")
        const invalid = yield* Effect.flip(
          Receiver.serve({ secret: Redacted.make(SECRET), port: -1 }).pipe(Effect.provideService(KaleyraEvents, events))
        )
        assert.strictEqual(invalid._tag, "ServeError")
      }))
  })

  describe("fuzz", () => {
    const methods = FastCheck.oneof(
      FastCheck.constantFrom("GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
      FastCheck.stringMatching(/^[A-Z]{1,8}$/)
    )
    const segment = FastCheck.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/)
    const paths = FastCheck.oneof(
      FastCheck.constant(PATH),
      FastCheck.constant(PATH),
      FastCheck.tuple(FastCheck.constant(PATH), FastCheck.dictionary(segment, FastCheck.string())).map(
        ([path, query]) => `${path}?${new URLSearchParams(query).toString()}`
      ),
      FastCheck.array(segment, { maxLength: 4 }).map((parts) => `/${parts.join("/")}`)
    )
    const printable = FastCheck.stringMatching(/^[\x20-\x7e]{0,40}$/)
    const reserved = new Set([
      "content-length",
      "transfer-encoding",
      "host",
      "connection",
      "expect",
      "upgrade",
      "authorization",
      "x-kaleyra-secret",
      "content-type"
    ])
    const extraHeaders = FastCheck.dictionary(
      FastCheck.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((name) => !reserved.has(name)),
      printable,
      { maxKeys: 4 }
    )
    const secrets = FastCheck.oneof(
      FastCheck.constant<Record<string, string>>({}),
      FastCheck.constant({ "x-kaleyra-secret": SECRET }),
      FastCheck.constant({ "x-kaleyra-secret": SECRET }),
      FastCheck.constant({ authorization: basic("u", SECRET) }),
      printable.map((value) => ({ "x-kaleyra-secret": value })),
      printable.map((value) => ({ authorization: `Basic ${Buffer.from(value).toString("base64")}` })),
      printable.map((value) => ({ authorization: value }))
    )
    const contentTypes = FastCheck.oneof(
      FastCheck.constant<Record<string, string>>({}),
      FastCheck.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/octet-stream"
      ).map((value) => ({ "content-type": value })),
      printable.map((value) => ({ "content-type": value }))
    )
    const bodies = FastCheck.oneof(
      FastCheck.constant(undefined),
      FastCheck.uint8Array({ maxLength: 1500 }),
      FastCheck.string({ maxLength: 300 }),
      FastCheck.json().map((value) => value),
      FastCheck.constantFrom(...fixtureNames).map((name) => JSON.stringify(fixture(name))),
      FastCheck.tuple(FastCheck.constantFrom(...fixtureNames), FastCheck.nat({ max: 200 })).map(
        ([name, cut]) => JSON.stringify(fixture(name)).slice(0, cut)
      ),
      FastCheck.dictionary(segment, printable).map((fields) => new URLSearchParams(fields).toString())
    )
    const anything = FastCheck.record({
      method: methods,
      path: paths,
      headers: FastCheck.tuple(extraHeaders, secrets, contentTypes).map(([a, b, c]) => ({ ...a, ...b, ...c })),
      body: bodies,
      chunked: FastCheck.boolean()
    })
    // Authorised POSTs of callbacks, whole or cut, so that accepted requests are common too.
    const nearlyValid = FastCheck.record({
      method: FastCheck.constant("POST"),
      path: FastCheck.constant(PATH),
      headers: FastCheck.tuple(
        extraHeaders,
        FastCheck.constantFrom<Record<string, string>>(
          { "x-kaleyra-secret": SECRET },
          { authorization: basic("kaleyra", SECRET) }
        )
      ).map(([a, b]) => ({ ...a, ...b, ...json })),
      body: FastCheck.tuple(FastCheck.constantFrom(...fixtureNames), FastCheck.nat({ max: 60 })).map(
        ([name, cut]) => {
          const text = JSON.stringify(fixture(name))
          return cut < 40 ? text : text.slice(0, text.length - cut)
        }
      ),
      chunked: FastCheck.boolean()
    })
    const requests = FastCheck.oneof({ arbitrary: anything, weight: 4 }, { arbitrary: nearlyValid, weight: 1 })

    type Request = typeof requests extends FastCheck.Arbitrary<infer A> ? A : never

    it.scopedLive(
      "random requests: never a 5xx, nothing published when refused, the server keeps answering",
      () =>
        Effect.gen(function*() {
          const { origin, published } = yield* receiver({ maxBodyBytes: 1024 })
          const runtime = yield* Effect.runtime<Scope.Scope>()
          const statuses = new Map<number, number>()
          let runs = 0
          const check = (input: Request) =>
            Effect.gen(function*() {
              runs++
              const method = input.method
              const answer = yield* send(origin, {
                method,
                path: input.path,
                headers: input.headers,
                ...(input.body !== undefined && method !== "GET" && method !== "HEAD" ? { body: input.body } : {}),
                chunked: input.chunked
              }).pipe(
                // Node's client refuses some inputs itself (an unknown method with a body...): nothing was sent.
                Effect.catchAll(() => Effect.succeed(undefined))
              )
              const events = yield* published
              if (answer === undefined) return assert.strictEqual(events.length, 0)
              statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
              assert.isBelow(answer.status, 500, `${input.method} ${input.path}: ${answer.body}`)
              if (answer.status !== 200) assert.strictEqual(events.length, 0, `${answer.status} published`)
            })
          yield* Effect.promise(() =>
            FastCheck.assert(
              FastCheck.asyncProperty(requests, (input) => Runtime.runPromise(runtime)(check(input))),
              { numRuns: 400 }
            )
          )
          assert.isAtLeast(runs, 400)
          // Every kind of answer was exercised.
          for (const status of [200, 400, 401, 404, 405]) assert.isAbove(statuses.get(status) ?? 0, 0, String(status))
          const after = yield* send(origin, { headers: withSecret, body: JSON.stringify(fixture("v2-incoming-text")) })
          assert.strictEqual(after.status, 200)
          assert.strictEqual((yield* published).length, 1)
        }),
      60_000
    )
  })

  describe("the router and the layer", () => {
    it.scopedLive("the router mounts in your own router, and works outside Node's server (a web handler)", () =>
      Effect.gen(function*() {
        const events = yield* KaleyraEvents.make()
        const queue = yield* events.subscribe
        const mine = HttpRouter.empty.pipe(
          HttpRouter.get("/health", HttpServerResponse.text("up")),
          HttpRouter.concat(Receiver.router({ secret: Redacted.make(SECRET), maxBodyBytes: 4096 })),
          Effect.catchTag("RouteNotFound", () => HttpServerResponse.empty({ status: 404 })),
          Effect.provideService(KaleyraEvents, events)
        )
        const handle = HttpApp.toWebHandler(mine)
        const call = (init: RequestInit & { readonly path?: string }) =>
          Effect.promise(() => handle(new Request(`http://receiver.test${init.path ?? PATH}`, init)))
        const health = yield* call({ path: "/health" })
        assert.strictEqual(health.status, 200)
        const ok = yield* call({ method: "POST", headers: withSecret, body: JSON.stringify(fixture("v2-sent")) })
        assert.strictEqual(ok.status, 200)
        assert.strictEqual(Chunk.size(yield* Queue.takeAll(queue)), 1)
        const large = yield* call({
          method: "POST",
          headers: { "x-kaleyra-secret": SECRET },
          body: new ReadableStream({
            start(controller) {
              for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(2048))
              controller.close()
            }
          }),
          ...{ duplex: "half" }
        })
        assert.strictEqual(large.status, 413)
        const unauthorized = yield* call({ method: "POST", body: JSON.stringify(fixture("v2-sent")) })
        assert.strictEqual(unauthorized.status, 401)
        const get = yield* call({
          method: "GET",
          path: `${PATH}?${new URLSearchParams(fixture("flat-status-get") as Record<string, string>).toString()}`,
          headers: { authorization: basic("", SECRET) }
        })
        assert.strictEqual(get.status, 200)
        assert.strictEqual(Chunk.size(yield* Queue.takeAll(queue)), 1)
      }))

    it.scopedLive("layer serves the receiver and provides where it listens", () =>
      Effect.gen(function*() {
        const context = yield* Layer.build(
          Receiver.layer({ secret: Redacted.make(SECRET) }).pipe(Layer.provideMerge(KaleyraEvents.layer()))
        )
        const { origin, url } = yield* Effect.provide(Receiver.CallbackReceiver, context)
        assert.strictEqual(url, `${origin}${PATH}`)
        const answer = yield* send(origin, { headers: withSecret, body: JSON.stringify(fixture("v2-sent")) })
        assert.strictEqual(answer.status, 200)
      }))
  })
})

describe("end to end over loopback: simulator -> callbacks -> receiver -> awaitStatus", () => {
  const TO = "+919876543210"

  /**
   * The receiver, the simulator with its callbacks pointed at it (signed with `callbackSecret`), and the Node client,
   * sharing one KaleyraEvents.
   */
  const makeStack = (callbackSecret: string) =>
    Effect.gen(function*() {
      const events = yield* Layer.build(KaleyraEvents.layer())
      const receiver = yield* Receiver.serve({ secret: Redacted.make(SECRET) }).pipe(Effect.provide(events))
      const served = yield* SimulatorServer.serve({
        simulator: {
          apiKey: API_KEY,
          sid: SID,
          callbacks: {
            url: receiver.url,
            secret: callbackSecret,
            delays: { sent: "10 millis", delivered: "20 millis", read: "30 millis" }
          }
        }
      })
      const client = yield* Layer.build(KaleyraNode.layer(clientOptions(served.url))).pipe(Effect.provide(events))
      return { receiver, served, client }
    })
  const stack = makeStack(SECRET)

  it.scopedLive("an image by link reaches read", () =>
    Effect.gen(function*() {
      const { client, served } = yield* stack
      const queue = yield* Effect.flatMap(KaleyraEvents, (events) => events.subscribe).pipe(Effect.provide(client))
      const result = yield* sendMedia(
        MediaMessage.image({ to: TO, link: "https://example.com/a.png", caption: "Hi" })
      ).pipe(Effect.provide(client))
      const read = yield* awaitStatus(result.messageId, "read", { timeout: "10 seconds" }).pipe(Effect.provide(client))
      assert.strictEqual(read.status, "read")
      assert.strictEqual(read.messageId, result.messageId)
      // the send result's format, so that results and events join as they are
      assert.strictEqual(read.recipient, result.recipients[0])
      assert.strictEqual(read.rawRecipient, "919876543210")
      const seen = Chunk.toReadonlyArray(yield* Queue.takeAll(queue)).map((event) =>
        event._tag === "MessageStatusUpdated" ? event.status : event._tag
      )
      assert.deepStrictEqual(seen, ["SendAccepted", "sent", "delivered", "read"])
      yield* served.simulator.awaitCallbacks
      assert.strictEqual(yield* served.simulator.callbacksDelivered, 3)
      assert.strictEqual(yield* served.simulator.callbackFailures, 0)
    }))

  it.scopedLive("a link ending in /404 fails with MessageFailed 131053", () =>
    Effect.gen(function*() {
      const { client } = yield* stack
      const result = yield* sendMedia({
        to: TO,
        type: "image",
        image: { link: "https://example.com/missing/404" },
        extraInfo: { ref: "order-17" }
      }).pipe(Effect.provide(client))
      const error = yield* Effect.flip(
        awaitStatus(result.messageId, "delivered", { timeout: "10 seconds" }).pipe(Effect.provide(client))
      )
      assert.strictEqual(error._tag, "MessageFailed")
      if (error._tag !== "MessageFailed") return
      assert.strictEqual(error.errors[0]?.code, 131053)
      assert.strictEqual(error.errors[0]?.title, "Media upload error")
      const status = yield* Effect.flatMap(KaleyraEvents, (events) => events.status(result.messageId)).pipe(
        Effect.provide(client)
      )
      assert.deepStrictEqual(status._tag === "Some" && status.value.refs, { ref: "order-17" })
    }))

  it.scopedLive("a wrong secret: the callbacks are refused and counted as failures", () =>
    Effect.gen(function*() {
      const { client, served } = yield* makeStack("wrong")
      yield* sendMedia(MediaMessage.image({ to: TO, link: "https://example.com/a.png" })).pipe(Effect.provide(client))
      yield* served.simulator.awaitCallbacks
      assert.strictEqual(yield* served.simulator.callbackFailures, 3)
      assert.strictEqual(yield* served.simulator.callbacksDelivered, 0)
    }))
})
