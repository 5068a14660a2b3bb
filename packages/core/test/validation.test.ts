import { KaleyraClient, MediaMessage, sendMedia, uploadMedia } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted, Schema } from "effect"
import { accepted, baseOptions, clientLayer, scripted } from "./utils.js"

const ok = "+919876543210"
const long = (n: number, c = "a") => c.repeat(n)
const emoji = "😀" // one code point, two UTF-16 units

/** [description, input, the field InvalidMessage must name] */
const rejected: ReadonlyArray<readonly [string, unknown, string]> = [
  ["not an object", "hello", "input"],
  ["null", null, "input"],
  ["an array", [], "input"],
  ["unknown type", { type: "gif", to: ok, gif: { link: "https://a.b/c" } }, "type"],
  ["missing type", { to: ok, image: { link: "https://a.b/c" } }, "type"],
  ["missing to", { type: "image", image: { link: "https://a.b/c" } }, "to"],
  ["to without +", { type: "image", to: "919876543210", image: { id: "1" } }, "to"],
  ["to with letters", { type: "image", to: "+91987654321x", image: { id: "1" } }, "to"],
  ["to too short", { type: "image", to: "+1234567", image: { id: "1" } }, "to"],
  ["to too long", { type: "image", to: "+1234567890123456", image: { id: "1" } }, "to"],
  ["to with a comma", { type: "image", to: "+919876543210,+919876543211", image: { id: "1" } }, "to"],
  ["to with a slash", { type: "image", to: "+91/9876543210", image: { id: "1" } }, "to"],
  ["empty recipients", { type: "image", to: [], image: { id: "1" } }, "to"],
  ["a bad second recipient", { type: "image", to: [ok, "+12"], image: { id: "1" } }, "to[1]"],
  ["a non-string recipient", { type: "image", to: [ok, 919876543211], image: { id: "1" } }, "to[1]"],
  ["a duplicate recipient", { type: "image", to: [ok, "+91 98765 43210"], image: { id: "1" } }, "to[1]"],
  ["neither id nor link", { type: "image", to: ok, image: {} }, "image"],
  ["both id and link", { type: "video", to: ok, video: { id: "1", link: "https://a.b/c.mp4" } }, "video.link"],
  ["missing media object", { type: "document", to: ok }, "document"],
  ["media under the wrong key", { type: "image", to: ok, video: { id: "1" } }, "video"],
  ["ftp link", { type: "image", to: ok, image: { link: "ftp://a.b/c.png" } }, "image.link"],
  ["relative link", { type: "image", to: ok, image: { link: "/c.png" } }, "image.link"],
  ["javascript link", { type: "image", to: ok, image: { link: "javascript:alert(1)" } }, "image.link"],
  ["link with a space", { type: "image", to: ok, image: { link: "https://a.b/c d.png" } }, "image.link"],
  ["empty id", { type: "sticker", to: ok, sticker: { id: "" } }, "sticker.id"],
  ["id with a newline", { type: "sticker", to: ok, sticker: { id: "12\n3" } }, "sticker.id"],
  ["caption on audio", { type: "audio", to: ok, audio: { id: "1", caption: "x" } }, "audio.caption"],
  ["caption on sticker", { type: "sticker", to: ok, sticker: { id: "1", caption: "x" } }, "sticker.caption"],
  ["filename on image", { type: "image", to: ok, image: { id: "1", filename: "a.png" } }, "image.filename"],
  ["filename on video", { type: "video", to: ok, video: { id: "1", filename: "a.mp4" } }, "video.filename"],
  ["caption of 1025 characters", { type: "image", to: ok, image: { id: "1", caption: long(1025) } }, "image.caption"],
  ["caption of 1025 emoji", { type: "video", to: ok, video: { id: "1", caption: long(1025, emoji) } }, "video.caption"],
  ["caption not a string", { type: "image", to: ok, image: { id: "1", caption: 5 } }, "image.caption"],
  ["empty filename", { type: "document", to: ok, document: { id: "1", filename: "" } }, "document.filename"],
  [
    "filename with a newline",
    { type: "document", to: ok, document: { id: "1", filename: "a\n.pdf" } },
    "document.filename"
  ],
  [
    "ref of 256 characters",
    { type: "image", to: ok, image: { id: "1" }, extraInfo: { ref: long(256) } },
    "extraInfo.ref"
  ],
  [
    "ref1 of 256 characters",
    { type: "image", to: ok, image: { id: "1" }, extraInfo: { ref1: long(256) } },
    "extraInfo.ref1"
  ],
  [
    "ref2 of 256 emoji",
    { type: "image", to: ok, image: { id: "1" }, extraInfo: { ref2: long(256, emoji) } },
    "extraInfo.ref2"
  ],
  [
    "an unknown wa_source",
    { type: "image", to: ok, image: { id: "1" }, extraInfo: { waSource: "mailchimp" } },
    "extraInfo.waSource"
  ],
  [
    "snake_case wa_source",
    { type: "image", to: ok, image: { id: "1" }, extraInfo: { wa_source: "api" } },
    "extraInfo.wa_source"
  ],
  [
    "an unknown extraInfo field",
    { type: "image", to: ok, image: { id: "1" }, extraInfo: { ref3: "x" } },
    "extraInfo.ref3"
  ],
  ["an unknown top-level field", { type: "image", to: ok, image: { id: "1" }, priority: "high" }, "priority"],
  ["empty replyTo", { type: "image", to: ok, image: { id: "1" }, replyTo: "" }, "replyTo"],
  ["a lone surrogate in a caption", { type: "image", to: ok, image: { id: "1", caption: "a\ud800b" } }, "image.caption"]
]

const accepted_: ReadonlyArray<readonly [string, unknown]> = [
  ["caption of exactly 1024 characters", { type: "image", to: ok, image: { id: "1", caption: long(1024) } }],
  ["caption of exactly 1024 emoji", { type: "image", to: ok, image: { id: "1", caption: long(1024, emoji) } }],
  ["refs of exactly 255 characters", {
    type: "audio",
    to: ok,
    audio: { id: "1" },
    extraInfo: { ref: long(255), ref1: long(255, emoji), ref2: long(255) }
  }],
  ["every wa_source", { type: "audio", to: ok, audio: { id: "1" }, extraInfo: { waSource: "moengage" } }],
  ["8 and 15 digits", { type: "audio", to: ["+12345678", "+123456789012345"], audio: { id: "1" } }],
  ["http link", { type: "audio", to: ok, audio: { link: "http://example.com/a.mp3" } }],
  ["a multi-line caption", { type: "image", to: ok, image: { id: "1", caption: "line 1\nline 2" } }]
]

describe("validation: a rejected input names the field and sends nothing", () => {
  for (const [name, input, field] of rejected) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { layer, seen } = clientLayer([accepted()])
        const error = yield* Effect.flip(sendMedia(input as MediaMessage.SendMediaInput).pipe(Effect.provide(layer)))
        assert.strictEqual(error._tag, "InvalidMessage")
        if (error._tag !== "InvalidMessage") return
        assert.strictEqual(error.field, field, error.message)
        assert.isAbove(error.reason.length, 0)
        assert.strictEqual(seen.length, 0, "no request leaves the process")
      }))
  }
  for (const [name, input] of accepted_) {
    it(`accepts ${name}`, () => {
      const result = MediaMessage.validate(input)
      assert.isTrue(Either.isRight(result), Either.isLeft(result) ? result.left.message : "")
    })
  }

  it("normalises recipients written by people", () => {
    const result = MediaMessage.validate({
      type: "image",
      to: ["+91 98765-43210", "+1 (415) 555.0100"],
      image: { id: "1" }
    })
    assert.deepStrictEqual(Either.getOrThrow(result).to, ["+919876543210", "+14155550100"])
  })

  it("links with Latin-1 characters in the host are judged as new URL judges them, also once the check is optimised", () => {
    // Once optimised, Node 20's URL.canParse misreads strings of Latin-1 characters (nodejs/node#58023).
    const image = (link: string) => ({ type: "image", to: ok, image: { link } })
    for (let i = 0; i < 50_000; i++) MediaMessage.validate(image(`https://example.com/${i % 7}.jpg`))
    for (
      const link of ["https://café.fr/a.jpg", "https://müller.de/a.jpg", "http://exämple.com/", "https://ñ.es/x.png"]
    ) {
      const result = MediaMessage.validate(image(link))
      assert.isTrue(Either.isRight(result), `${link}: ${Either.isLeft(result) ? result.left.message : ""}`)
    }
    assert.throws(() => new URL("http://xÃ¨.com/"))
    assert.isTrue(Either.isLeft(MediaMessage.validate(image("http://xÃ¨.com/"))), "a host new URL refuses")
  })

  it("a builder given a field its type does not take (from untyped code) is refused, not silently dropped", () => {
    const input = MediaMessage.audio({ to: ok, link: "https://a.b/c.mp3", caption: "x" } as never)
    const result = MediaMessage.validate(input)
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.strictEqual(result.left.field, "audio.caption")
  })
})

describe("a hostile sid or senderNumber cannot change the request path", () => {
  const hostile = ["../../x", "a/b", "x?y=1", "x#y", "%2e%2e", "HX AP", "HX\r\nHost: evil", ""]
  for (const sid of hostile) {
    it.effect(`sid ${JSON.stringify(sid)} is refused when the layer is built`, () =>
      Effect.gen(function*() {
        const { layer, seen } = clientLayer([accepted()], { sid })
        const error = yield* Effect.flip(
          sendMedia({ type: "image", to: ok, image: { id: "1" } }).pipe(Effect.provide(layer))
        )
        assert.strictEqual(error._tag === "ConfigError" && error._op, "InvalidData")
        assert.strictEqual(seen.length, 0)
      }))
  }
  for (const senderNumber of [...hostile, "+91/999", "91999999999999999"]) {
    it.effect(`senderNumber ${JSON.stringify(senderNumber)} is refused`, () =>
      Effect.gen(function*() {
        const { layer } = clientLayer([accepted()], { senderNumber })
        const error = yield* Effect.flip(Effect.provide(KaleyraClient, layer))
        assert.strictEqual(error._tag === "ConfigError" && error._op, "InvalidData")
      }))
  }
  it.effect("a sender number written with + and spaces is sent as digits", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([accepted()], { senderNumber: "+91 99999 99999" })
      yield* sendMedia({ type: "image", to: ok, image: { id: "1" } }).pipe(Effect.provide(layer))
      assert.strictEqual(new URL(seen[0].url).pathname, "/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/messages")
    }))
  it.effect("regions choose Kaleyra's hosts; baseUrl must be plain http(s)", () =>
    Effect.gen(function*() {
      const hosts = {
        IN: "api.in.kaleyra.io",
        SG: "api.ap.kaleyra.io",
        EU: "api.eu.kaleyra.io",
        NA: "api.na.kaleyra.ai"
      }
      for (const [region, host] of Object.entries(hosts)) {
        const s = scripted([accepted()])
        const client = yield* Effect.provide(
          KaleyraClient,
          KaleyraClient.layer({ ...baseOptions, baseUrl: undefined, region: region as "IN" }).pipe(
            Layer.provide(s.layer)
          )
        )
        assert.strictEqual(client.config.baseUrl, `https://${host}`)
      }
      for (const baseUrl of ["ftp://x", "not a url", "https://x/?q=1", "https://user:pw@x"]) {
        const error = yield* Effect.flip(Effect.provide(KaleyraClient, clientLayer([], { baseUrl }).layer))
        assert.strictEqual(error._tag === "ConfigError" && error._op, "InvalidData", baseUrl)
      }
      const error = yield* Effect.flip(
        Effect.provide(KaleyraClient, clientLayer([], { apiKey: Redacted.make("") }).layer)
      )
      assert.strictEqual(error._tag === "ConfigError" && error._op, "InvalidData")
    }))
})

describe("unpaired surrogates are refused in every string sent, naming the field", () => {
  const lone = ["\ud800", "a\udbffb", "\udc00x", "x\udfff"]
  const cases: ReadonlyArray<readonly [string, (s: string) => unknown, string]> = [
    ["image.link", (s) => ({ type: "image", to: ok, image: { link: `https://example.com/${s}.png` } }), "image.link"],
    ["image.id", (s) => ({ type: "image", to: ok, image: { id: `1${s}` } }), "image.id"],
    ["audio.id", (s) => ({ type: "audio", to: ok, audio: { id: s } }), "audio.id"],
    ["replyTo", (s) => ({ type: "image", to: ok, image: { id: "1" }, replyTo: `wamid.${s}` }), "replyTo"],
    ["to", (s) => ({ type: "image", to: `+9198765${s}43210`, image: { id: "1" } }), "to"],
    ["to[1]", (s) => ({ type: "image", to: [ok, `+1415555${s}0123`], image: { id: "1" } }), "to[1]"],
    [
      "document.filename",
      (s) => ({ type: "document", to: ok, document: { id: "1", filename: `a${s}.pdf` } }),
      "document.filename"
    ],
    [
      "extraInfo.ref2",
      (s) => ({ type: "image", to: ok, image: { id: "1" }, extraInfo: { ref2: s } }),
      "extraInfo.ref2"
    ],
    [
      "extraInfo.waSource",
      (s) => ({ type: "image", to: ok, image: { id: "1" }, extraInfo: { waSource: `api${s}` } }),
      "extraInfo.waSource"
    ]
  ]
  for (const [name, make, field] of cases) {
    it(name, () => {
      for (const s of lone) {
        const result = MediaMessage.validate(make(s))
        assert.isTrue(Either.isLeft(result), `${JSON.stringify(s)} accepted`)
        if (Either.isLeft(result)) assert.strictEqual(result.left.field, field)
      }
    })
  }
  it.effect("an upload's filename (sent in the multipart body, where it would become U+FFFD)", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([{ status: 200, body: JSON.stringify({ id: "m-1" }) }])
      for (const s of lone) {
        const error = yield* Effect.flip(
          uploadMedia({ data: new TextEncoder().encode("plain text"), filename: `a${s}.txt` }).pipe(
            Effect.provide(layer)
          )
        )
        assert.strictEqual(error._tag === "InvalidMedia" && error.field, "filename")
      }
      assert.strictEqual(seen.length, 0)
    }))
})

describe("a validation error is small whatever the input, and says what is allowed", () => {
  const HUGE = 4_000_000
  const huge = "x".repeat(HUGE)
  const base = () => ({
    type: "document",
    to: [ok, "+14155550123"],
    document: { link: "https://example.com/a.pdf", caption: "c", filename: "a.pdf" },
    replyTo: "wamid.HBgL",
    extraInfo: { ref: "r", ref1: "r1", ref2: "r2", waSource: "api" }
  })
  const set = (path: ReadonlyArray<string | number>, value: unknown): unknown => {
    const input = base() as Record<string | number, unknown>
    const parent = path.slice(0, -1).reduce((u, key) => u[key] as Record<string | number, unknown>, input)
    parent[path[path.length - 1]] = value
    return input
  }
  const manyKeys = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, huge]))
  const paths: ReadonlyArray<ReadonlyArray<string | number>> = [
    ["type"],
    ["to"],
    ["to", 1],
    ["document"],
    ["document", "link"],
    ["document", "caption"],
    ["document", "filename"],
    ["replyTo"],
    ["extraInfo"],
    ["extraInfo", "ref"],
    ["extraInfo", "ref1"],
    ["extraInfo", "ref2"],
    ["extraInfo", "waSource"]
  ]
  const inputs: ReadonlyArray<readonly [string, unknown]> = [
    ["a huge string as the input", huge],
    ["a huge array as the input", Array.from({ length: 100_000 }, () => huge)],
    ...paths.flatMap((path): ReadonlyArray<readonly [string, unknown]> => [
      [`a huge string in ${path.join(".")}`, set(path, huge)],
      [`a huge array in ${path.join(".")}`, set(path, Array.from({ length: 100_000 }, () => huge))],
      [`an object of 100 000 huge fields in ${path.join(".")}`, set(path, manyKeys)]
    ]),
    ["an unknown field named by a huge string", { ...base(), [huge]: huge }],
    ["an unknown media field named by a huge string", set(["document", huge], huge)],
    ["an unknown extraInfo field named by a huge string", set(["extraInfo", huge], huge)],
    ["100 000 unknown fields", { ...base(), ...manyKeys }],
    ["100 000 unknown extraInfo fields", set(["extraInfo"], { ...manyKeys, ref: huge })],
    [
      "100 000 recipients, the last one wrong",
      set(
        ["to"],
        Array.from({ length: 100_000 }, (_, i) => `+1415${String(i).padStart(7, "0")}${i === 99_999 ? huge : ""}`)
      )
    ],
    ["a huge bigint", set(["replyTo"], 10n ** 100_000n)],
    ["a huge string of emoji (cut between characters, never inside one)", set(["extraInfo"], "😀".repeat(HUGE))],
    ["a huge string of emoji as an unknown key", set(["extraInfo", "😀".repeat(HUGE)], 1)]
  ]
  for (const [name, input] of inputs) {
    it(name, () => {
      const result = MediaMessage.validate(input)
      assert.isTrue(Either.isLeft(result))
      if (Either.isRight(result)) return
      const error = result.left
      assert.isAtMost(error.field.length, 300)
      assert.isAtMost(error.reason.length, 300)
      assert.isAtMost(error.issues.length, 20)
      for (const issue of error.issues) {
        assert.isAtMost(issue.field.length, 300)
        assert.isAtMost(issue.reason.length, 300)
      }
      assert.isAtMost(error.message.length, 700)
      // an excerpt never splits a surrogate pair
      assert.notMatch(error.message, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/)
      assert.isAtMost(JSON.stringify(error).length, 20 * 700 + 1_000)
    })
  }

  it("a wrong waSource or type lists every allowed value, also from the schema itself", () => {
    for (const waSource of ["mailchimp", "API", 5, ""]) {
      const result = MediaMessage.validate(set(["extraInfo", "waSource"], waSource))
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        assert.strictEqual(result.left.field, "extraInfo.waSource")
        for (const allowed of MediaMessage.waSources) assert.include(result.left.reason, allowed)
      }
    }
    const decoded = Schema.decodeUnknownEither(MediaMessage.ExtraInfo)({ waSource: "mailchimp" })
    assert.isTrue(Either.isLeft(decoded))
    if (Either.isLeft(decoded)) {
      for (const allowed of MediaMessage.waSources) assert.include(decoded.left.message, allowed)
    }
    const type = Schema.decodeUnknownEither(MediaMessage.MediaType)("gif")
    if (Either.isLeft(type)) {
      for (const allowed of MediaMessage.mediaTypes) {
        assert.include(type.left.message, allowed)
      }
    }
  })

  it.effect("uploadMedia: a huge mimeType or filename gives a small InvalidMedia", () =>
    Effect.gen(function*() {
      const { layer } = clientLayer([accepted()])
      const data = new TextEncoder().encode("plain text")
      for (const input of [{ data, filename: "a.txt", mimeType: huge }, { data, filename: huge }]) {
        const error = yield* Effect.flip(uploadMedia(input).pipe(Effect.provide(layer)))
        assert.strictEqual(error._tag, "InvalidMedia")
        assert.isAtMost(JSON.stringify(error).length, 1_500)
        assert.isAtMost(error.message.length, 1_000)
      }
    }))
})
