import { sendMedia } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Inspectable, Logger, LogLevel, Redacted, type Tracer } from "effect"
import { leakIn, observed } from "./leaks.js"
import { accepted, API_KEY, clientLayer, imageByLink, type Reply, seedFailures } from "./utils.js"

const leaky: Reply = {
  // A transport whose error message quotes the request, header and all.
  fail: Object.assign(new Error(`socket hang up while sending api-key: ${API_KEY}`), {
    _tag: "RequestError",
    reason: "Transport",
    cause: Object.assign(new Error(`ECONNRESET api-key=${API_KEY}`), { code: "ECONNRESET" })
  })
}
const echoing: Reply = { status: 502, body: `<html>bad gateway for key ${API_KEY}</html>` }
const echoingJson: Reply = {
  status: 401,
  body: JSON.stringify({
    code: "RBC001",
    message: `Incorrect SID or API key ${API_KEY}.`,
    data: [],
    error: { error: `key ${API_KEY}`, [API_KEY]: [API_KEY] }
  })
}
const echoingUnknown: Reply = {
  status: 418,
  body: JSON.stringify({ code: `X-${API_KEY}`, message: API_KEY, error: { nested: { key: API_KEY } } })
}
const echoing429: Reply = { status: 429, body: JSON.stringify({ code: "429", message: `slow down ${API_KEY}` }) }
const echoingSuccessless: Reply = { status: 202, body: JSON.stringify({ note: API_KEY }) }

describe("the API key never leaks", () => {
  it.live("not in any log line, span, span attribute, error message, toJSON or Cause.pretty", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make((options) => {
        lines.push(Logger.stringLogger.log(options))
        lines.push(JSON.stringify(Logger.structuredLogger.log(options)))
      })
      const spans: Array<Tracer.Span> = []
      // Like an exporter, serialise each span when it ends (inside the fiber that ran it).
      const exported: Array<string> = []
      const native = yield* Effect.tracer
      const tracer: Tracer.Tracer = {
        ...native,
        span(...args) {
          const span = native.span(...args)
          spans.push(span)
          const end = span.end.bind(span)
          span.end = (endTime, exit) => {
            end(endTime, exit)
            exported.push(JSON.stringify({
              name: span.name,
              attributes: Object.fromEntries(span.attributes),
              events: ((span as { events?: Array<[string, bigint, unknown]> }).events ?? []).map((
                [name, , attributes]
              ) => [name, attributes]),
              // a success holds the live response (formatting it would read its body); failures hold the errors
              exit: exit._tag === "Failure" ? Inspectable.format(exit) : "success"
            }))
          }
          return span
        }
      }
      const scenarios: ReadonlyArray<ReadonlyArray<Reply>> = [
        [accepted()],
        [{ status: 500, body: JSON.stringify(seedFailures.WA500.body) }, accepted()],
        [{ status: 401, body: JSON.stringify(seedFailures.RBC001.body) }],
        [leaky],
        [echoing],
        [echoingJson],
        [echoingUnknown],
        [echoing429],
        [echoingSuccessless],
        [{ status: 429, body: "", headers: { "retry-after": "0" } }, accepted()]
      ]
      const outputs: Array<string> = []
      for (const replies of scenarios) {
        const { layer } = clientLayer(replies, { retryBaseDelay: "1 millis" })
        const exit = yield* sendMedia(imageByLink).pipe(
          Effect.tap((result) => Effect.logInfo("sent", result)),
          Effect.tapErrorCause((cause) => Effect.logError("failed", cause)),
          Effect.exit,
          Effect.provide(layer),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.All),
          Effect.withTracer(tracer),
          Effect.withTracerEnabled(true)
        )
        outputs.push(Inspectable.format(exit))
        if (exit._tag === "Failure") {
          outputs.push(Cause.pretty(exit.cause, { renderErrorCause: true }))
          const error = Cause.squash(exit.cause)
          outputs.push(String(error), JSON.stringify(error), Inspectable.format(error))
          if (error instanceof Error) outputs.push(error.message, error.stack ?? "")
        }
      }
      const spanText = spans.map((span) =>
        JSON.stringify({ name: span.name, attributes: Object.fromEntries(span.attributes) })
      )
      assert.strictEqual(exported.length, spans.length)
      assert.isAbove(spans.length, 5)
      assert.isTrue(spans.some((s) => s.name === "Kaleyra.sendMedia"))
      const httpSpan = spans.find((s) => s.attributes.has("http.request.header.api-key"))
      assert.isDefined(httpSpan, "the HTTP client span records request headers")
      assert.strictEqual(httpSpan!.attributes.get("http.request.header.api-key"), "<redacted>")
      for (const text of [...lines, ...spanText, ...exported, ...outputs]) {
        assert.notInclude(
          text,
          API_KEY,
          text.slice(Math.max(0, text.indexOf(API_KEY) - 300), text.indexOf(API_KEY) + 40)
        )
      }
      assert.isAbove(lines.length, 3)
    }))
})

describe("the API key echoed back in the four ways that once survived", () => {
  const cases: ReadonlyArray<readonly [string, string, Reply, string]> = [
    // The excerpt keeps a JSON body's escapes: the key was looked for as it is, not as `\"` and `\\`.
    ["a key with a quote and a backslash, in a JSON body", `sk"live\\9f8e7d6c5b4a`, {
      status: 400,
      body: JSON.stringify({ note: `sk"live\\9f8e7d6c5b4a` })
    }, "UnexpectedResponse"],
    ["a key cut by the 512-character excerpt", API_KEY, {
      status: 502,
      // 15 of its 27 characters end the excerpt
      body: `<html>${".".repeat(491)}${API_KEY}</html>`
    }, "UnexpectedResponse"],
    ["a key echoed in `code` (upper-cased by the client)", API_KEY, {
      status: 400,
      body: JSON.stringify({ code: API_KEY, message: "Bad request", error: {} })
    }, "KaleyraError"],
    ["a key echoed in the content type", API_KEY, {
      status: 502,
      body: "<html>bad gateway</html>",
      headers: { "content-type": `text/html; charset=${API_KEY}` }
    }, "UnexpectedResponse"]
  ]
  for (const [name, key, reply, expected] of cases) {
    it.effect(`${name}: no fragment of 8 characters in the error, Cause.pretty, logs or spans`, () =>
      Effect.gen(function*() {
        const { layer } = clientLayer([reply], { apiKey: Redacted.make(key), maxRetries: 0 })
        const { exit, outputs } = yield* observed(Effect.provide(sendMedia(imageByLink), layer))
        assert.strictEqual(exit._tag, "Failure")
        const failure = exit._tag === "Failure" ? Cause.failureOption(exit.cause) : undefined
        assert.isTrue(failure?._tag === "Some" && failure.value._tag.endsWith(expected), String(failure))
        for (const text of outputs) assert.isUndefined(leakIn(key, text), text)
      }))
  }
})
