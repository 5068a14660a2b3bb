/**
 * A server (or a transport) that echoes the API key back, in every field of every error kind: no field, message,
 * `Cause.pretty`, log line or span holds the key, nor a fragment of 8 or more of its characters, whatever its
 * characters (quotes, backslashes, tabs, unicode) and wherever it is echoed (cut by an excerpt, upper-cased, JSON- or
 * `\u`-escaped).
 */
import { KaleyraClient, sendMedia, type SendMediaError } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, FastCheck, Layer, Redacted } from "effect"
import { errorFromResponse, type RawResponse, sendSuccessFromResponse } from "../src/internal/errorFromResponse.js"
import { errorScrubber, REDACTED, textScrubber } from "../src/internal/secret.js"
import { fromFailure } from "../src/internal/transport.js"
import { asciiJson, FRAGMENT, leakIn, observed, renderings } from "./leaks.js"
import { type Answer, baseOptions, imageByLink, type Reply, scripted, scriptedTransport } from "./utils.js"

/** The answers of a server (or failures of a transport) that echo `echo` in every place it can, `pad` characters in. */
const answers = (
  echo: string,
  pad: number
): ReadonlyArray<Answer> => {
  const padding = ".".repeat(pad)
  const json = (status: number, body: unknown, encode: (value: unknown) => string = JSON.stringify) => ({
    status,
    contentType: `application/json; echo=${echo}`,
    retryAfter: echo,
    body: encode(body)
  })
  return [
    // an HTML gateway page, the key at any place (cut by the 512-character excerpt when `pad` is near it)
    { status: 502, contentType: `text/html; ${echo}`, retryAfter: undefined, body: `${padding}<p>${echo}</p>` },
    // a Kaleyra error echoing it in its message and error object (keys and values), JSON-escaped and \u-escaped
    json(401, { pad: padding, code: "RBC001", message: `bad key ${echo}`, error: { [echo]: [echo, { k: echo }] } }),
    json(401, { code: "RBC001", message: `${padding}${echo}`, error: { e: echo } }, asciiJson),
    // in the code (upper-cased by the client), with an unknown code
    json(418, { code: echo, message: echo, error: {} }),
    json(400, { code: `X-${echo}`, message: "", error: { [echo]: echo } }),
    // a 429
    json(429, { code: echo, message: `${padding}${echo}` }),
    // not Kaleyra's shape
    json(400, { note: echo, [echo]: 1, pad: padding }),
    // JSON quoting JSON (a request body echoed in a string): escaped twice in the excerpt
    json(400, { note: JSON.stringify({ key: echo }), pad: padding }),
    // a 2xx without a message id
    json(202, { pad: padding, note: echo }),
    // too large to read: only the content type
    { status: 200, contentType: echo, retryAfter: undefined, body: undefined },
    // a transport failure quoting it, before any response (code and message), and while reading a body
    { cause: Object.assign(new Error(`${padding}socket hang up: api-key: ${echo}`), { code: `E${echo}` }) },
    { cause: Object.assign(new Error(`read failed ${echo}`), { code: "ECONNRESET" }), status: 202, contentType: echo }
  ]
}

/**
 * The transports that give `answer`: the contract answering it as it is, and (when an HTTP response can carry it) the
 * generic transport over a plain `HttpClient`.
 */
const clients = (answer: Answer) => {
  const viaExchange = scriptedTransport([answer]).layer
  let reply: Reply | undefined
  if (!("cause" in answer)) {
    reply = answer.body === undefined ? undefined : {
      status: answer.status,
      body: answer.body,
      headers: {
        "content-type": answer.contentType ?? "",
        ...(answer.retryAfter ? { "retry-after": answer.retryAfter } : {})
      }
    }
  } else if (answer.status === undefined) {
    reply = { fail: { _tag: "RequestError", reason: "Transport", cause: answer.cause } }
  }
  return reply === undefined ? [viaExchange] : [viaExchange, scripted([reply]).layer]
}

/** The error the client makes of an answer, before scrubbing. */
const errorOf = (answer: Answer): SendMediaError => {
  if ("cause" in answer) return fromFailure(answer)
  const raw = answer as RawResponse
  if (raw.status >= 200 && raw.status < 300) {
    const success = sendSuccessFromResponse(raw)
    if (success._tag === "Right") throw new Error("expected a failure")
    return success.left
  }
  return errorFromResponse(raw, 0)
}

const special = FastCheck.constantFrom(
  "\"",
  "\\",
  "\t",
  "/",
  "<",
  "&",
  "'",
  "é",
  "ß",
  "µ",
  "ÿ",
  "Σ",
  "İ",
  "€",
  "😀",
  "\u0000",
  "\u007f"
)
const alnum = FastCheck.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

/** Any key: specials, letters, any code point. */
const anyKey = FastCheck.string({
  unit: FastCheck.oneof(special, alnum, FastCheck.string({ unit: "binary", minLength: 1, maxLength: 1 })),
  minLength: FRAGMENT,
  maxLength: 48
})

/** A key the client accepts (printable Latin-1), with quotes and backslashes. */
const validKey = FastCheck.string({
  unit: FastCheck.oneof(
    FastCheck.constantFrom("\"", "\\", "/", "<", "&", "'", " ", "é", "ß", "µ", "ÿ", "Ä"),
    alnum
  ),
  minLength: FRAGMENT,
  maxLength: 48
}).filter((key) => key.trim() === key)

describe("the API key echoed back never survives in an error", () => {
  it.prop(
    "any key, echoed into every field of every error kind: no fragment of 8 characters in any rendering",
    [anyKey, FastCheck.integer({ min: 0, max: 600 })],
    ([key, pad]) => {
      const scrub = errorScrubber(key)
      const reference = answers(REDACTED, pad).map(errorOf).flatMap(renderings).join("\n")
      // A key that shares a fragment with what the errors say anyway (their own words, the padding) proves nothing.
      FastCheck.pre(leakIn(key, reference) === undefined)
      for (const answer of answers(key, pad)) {
        const error = scrub(errorOf(answer))
        for (const text of renderings(error)) {
          const leak = leakIn(key, text)
          assert.isUndefined(leak, `${error._tag}: ${JSON.stringify(leak)} in ${text.slice(0, 2000)}`)
        }
      }
    },
    {
      timeout: 120_000,
      // Once found by a random run: the 300-unit cut of the transport error's detail fell between the halves of the
      // key's first astral character, 7 units in.
      fastCheck: { numRuns: 100, examples: [["\"UIÿ€a/\u{bb24e}L\u{5f204}W\"", 250]] }
    }
  )

  it.effect.prop(
    "through the client, by the transport contract and by a generic HttpClient: nor in a log line or a span",
    [validKey, FastCheck.integer({ min: 0, max: 600 })],
    ([key, pad]) =>
      Effect.gen(function*() {
        const run = (echo: string) =>
          Effect.forEach(answers(echo, pad).flatMap((answer) => clients(answer)), (client) =>
            observed(
              Effect.provide(
                sendMedia(imageByLink),
                KaleyraClient.layer({ ...baseOptions, apiKey: Redacted.make(key), maxRetries: 0 }).pipe(
                  Layer.provide(client)
                )
              )
            ).pipe(Effect.map(({ exit, outputs }) => {
              assert.isTrue(Exit.isFailure(exit))
              return outputs
            })))
        const reference = (yield* run(REDACTED)).flat()
        if (leakIn(key, reference.join("\n")) !== undefined) return
        for (const text of (yield* run(key)).flat()) {
          const leak = leakIn(key, text)
          assert.isUndefined(leak, `${JSON.stringify(leak)} in ${text.slice(0, 2000)}`)
        }
      }),
    { timeout: 120_000, fastCheck: { numRuns: 15 } }
  )
})

/** What a reader of `text` sees once every escape is undone (JSON, `\x`, HTML entities, percent, `+`), twice over. */
const unescaped = (text: string): string => {
  const entities: Record<string, string> = { quot: "\"", apos: "'", lt: "<", gt: ">", amp: "&" }
  const once = (s: string) =>
    s
      // JSON and `\x` escapes in one left-to-right pass, so that `\\u003c` is a backslash and then `u003c`
      .replace(
        /\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\(["\\/'])/g,
        (_, u, x, c) => c ?? String.fromCharCode(parseInt(u ?? x, 16))
      )
      .replace(
        /&#(\d+);|&#x([0-9a-fA-F]+);|&(quot|apos|lt|gt|amp);/gi,
        (_, d, h, n) => n ? entities[n.toLowerCase()] : String.fromCodePoint(d ? parseInt(d, 10) : parseInt(h, 16))
      )
      .replace(/\+/g, " ")
      .replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
        try {
          return decodeURIComponent(run)
        } catch {
          return run
        }
      })
  return once(once(text))
}

describe("the API key echoed with escapes of any writer", () => {
  const key = "Abc<defg&hij>klm'nop\"qrs/tuv wxy+zé-01"
  // How servers and proxies write text back: Go's encoding/json (HTML-safe `\u003c`), HTML numeric entities, a form,
  // Python's repr, a `\u`-escaped slash, and a mix of them in one key.
  const writers: ReadonlyArray<readonly [string, (text: string) => string]> = [
    [
      "Go JSON",
      (t) => JSON.stringify(t).slice(1, -1).replace(/[<>&']/g, (c) => "\\u00" + c.charCodeAt(0).toString(16))
    ],
    ["decimal entities", (t) => t.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)],
    ["hex entities", (t) => t.replace(/[^A-Za-z0-9]/g, (c) => `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`)],
    ["a form", (t) => encodeURIComponent(t).replace(/%20/g, "+")],
    ["Python repr", (t) => t.replace(/[\\'"]/g, (c) => "\\" + c).replace(/é/g, "\\xe9")],
    ["escaped slashes", (t) => t.replace(/\//g, "\\u002f")],
    ["mixed", (t) => t.replace(/</g, "&lt;").replace(/&(?!lt;)/g, "\\u0026").replace(/ /g, "%20")]
  ]
  for (const [name, write] of writers) {
    it.effect(`${name}: no fragment of 8 characters survives, as it is or unescaped`, () =>
      Effect.gen(function*() {
        const echo = write(key)
        assert.notStrictEqual(echo, key)
        const scrub = errorScrubber(key)
        const answer = { status: 502, contentType: `text/html; ${echo}`, retryAfter: undefined, body: `<p>${echo}</p>` }
        for (const text of renderings(scrub(errorOf(answer)))) {
          for (const seen of [text, unescaped(text)]) {
            const leak = leakIn(key, seen)
            assert.isUndefined(leak, `${JSON.stringify(leak)} in ${seen.slice(0, 500)}`)
          }
        }
        // and through a client reading a Go server's JSON answer
        const client = scripted([{ status: 401, body: `{"code":"RBC001","message":"bad key ${echo}"}` }]).layer
        const { exit, outputs } = yield* observed(
          Effect.provide(
            sendMedia(imageByLink),
            KaleyraClient.layer({ ...baseOptions, apiKey: Redacted.make(key), maxRetries: 0 }).pipe(
              Layer.provide(client)
            )
          )
        )
        assert.isTrue(Exit.isFailure(exit))
        for (const text of outputs) {
          assert.isUndefined(leakIn(key, unescaped(text)), text.slice(0, 500))
        }
      }))
  }
})

describe("the http.client span of a generic HttpClient", () => {
  const key = "k3y-Echoed-In-Headers-0123456789"
  const run = (reply: Reply) =>
    observed(
      Effect.provide(
        sendMedia(imageByLink),
        KaleyraClient.layer({ ...baseOptions, apiKey: Redacted.make(key), maxRetries: 0 }).pipe(
          Layer.provide(scripted([reply]).layer)
        )
      )
    )
  const cases: ReadonlyArray<readonly [string, Reply]> = [
    ["a response header echoing the key", { status: 401, body: "{}", headers: { "x-echo": `bad key ${key}` } }],
    [
      "a transport failure quoting the key",
      {
        fail: {
          _tag: "RequestError",
          reason: "Transport",
          cause: Object.assign(new Error(`reset: api-key: ${key}`), { code: `E${key}` })
        }
      }
    ]
  ]
  for (const [name, reply] of cases) {
    it.effect(`${name}: the span is still recorded, and holds no fragment of the key`, () =>
      Effect.gen(function*() {
        const { exit, outputs, platform } = yield* run(reply)
        assert.isTrue(Exit.isFailure(exit))
        assert.isTrue(platform.some((span) => span.includes("\"name\":\"http.client POST\"")), platform.join("\n"))
        for (const text of [...outputs, ...platform]) {
          const leak = leakIn(key, text)
          assert.isUndefined(leak, `${JSON.stringify(leak)} in ${text.slice(0, 1000)}`)
        }
      }))
  }
})

/** An unpaired surrogate: what a cut between the two halves of a pair leaves. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

describe("the API key cut between the two halves of a surrogate pair", () => {
  // A pair 7 units from either end: a cut between its halves leaves 8 units of the key, one of them half a pair.
  const key = "sk-live\u{1F600}mid-part\u{1F4A5}9f8e7d6"
  const echoes = (key: string) =>
    Array.from({ length: key.length - FRAGMENT + 1 }, (_, i) => FRAGMENT + i).flatMap((n) => [
      `api-key: ${key.slice(0, n)}`,
      `${key.slice(key.length - n)} was refused`
    ])

  it("by whoever cut the text: the half pair still counts as one unit of the key", () => {
    const scrub = textScrubber(key)
    for (const text of echoes(key)) {
      const clean = scrub(text)
      assert.isUndefined(leakIn(key, clean), `${JSON.stringify(text)} -> ${JSON.stringify(clean)}`)
    }
  })

  it.prop(
    "any key, cut at any unit: no fragment of 8 characters survives",
    [anyKey],
    ([key]) => {
      FastCheck.pre(leakIn(key, `api-key: ${REDACTED} was refused`) === undefined)
      const scrub = textScrubber(key)
      for (const text of echoes(key)) {
        const clean = scrub(text)
        assert.isUndefined(leakIn(key, clean), `${JSON.stringify(text)} -> ${JSON.stringify(clean)}`)
      }
    },
    { fastCheck: { numRuns: 100 } }
  )

  it("by the 300-unit cut of a TransportError's detail and a BodyReadFailed's excerpt: on a code point boundary", () => {
    // The high surrogate of the key's first pair is unit 299 of the message.
    const cause = new Error(`${".".repeat(292)}${key}`)
    for (const error of [fromFailure({ cause }), fromFailure({ cause, status: 502 })]) {
      const text = error._tag === "TransportError" ? error.detail : error.excerpt
      assert.isFalse(LONE_SURROGATE.test(text), JSON.stringify(text.slice(-12)))
      assert.strictEqual(text, `${".".repeat(292)}sk-live…`)
      for (const rendering of renderings(errorScrubber(key)(error))) {
        assert.isUndefined(leakIn(key, rendering), rendering)
      }
    }
  })
})
