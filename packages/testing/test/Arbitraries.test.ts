import { MediaMessage } from "@effect-kaleyra/core"
import { Arbitraries } from "@effect-kaleyra/testing"
import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck } from "effect"

const sample = <A>(arbitrary: FastCheck.Arbitrary<A>, numRuns = 400): ReadonlyArray<A> =>
  FastCheck.sample(arbitrary, { numRuns, seed: 42 })

const isAstral = (s: string) => /[\ud800-\udbff][\udc00-\udfff]/.test(s)

describe("Arbitraries", () => {
  it.prop("validMessage: core's validation accepts every one", [Arbitraries.validMessage], ([input]) => {
    const result = MediaMessage.validate(input)
    assert.isTrue(Either.isRight(result), Either.isLeft(result) ? result.left.message : "")
  }, { fastCheck: { numRuns: 1000 } })

  it.prop(
    "invalidMessage: core's validation refuses every one, on the field given",
    [Arbitraries.invalidMessage],
    ([{ field, input }]) => {
      const result = MediaMessage.validate(input)
      if (Either.isRight(result)) return assert.fail(`accepted: ${JSON.stringify(input)}`)
      assert.strictEqual(result.left.field, field, result.left.reason)
    },
    { fastCheck: { numRuns: 3000 } }
  )

  it("invalidMessage covers every kind of field", () => {
    const fields = new Set(
      sample(Arbitraries.invalidMessage, 3000).map(({ field }) =>
        field.replace(/^(audio|document|image|sticker|video)/, "<media>").replace(/\[\d+\]/, "[i]")
      )
    )
    for (
      const expected of [
        "input",
        "type",
        "to",
        "to[i]",
        "replyTo",
        "<media>",
        "<media>.caption",
        "<media>.filename",
        "<media>.id",
        "<media>.link",
        "extraInfo",
        "extraInfo.ref",
        "extraInfo.ref1",
        "extraInfo.ref2",
        "extraInfo.waSource"
      ]
    ) {
      assert.isTrue(fields.has(expected), expected)
    }
  })

  it("per-type arbitraries give their type, with only the fields the type takes", () => {
    const byType = [
      [Arbitraries.validImage, "image", ["id", "link", "caption"]],
      [Arbitraries.validVideo, "video", ["id", "link", "caption"]],
      [Arbitraries.validDocument, "document", ["id", "link", "caption", "filename"]],
      [Arbitraries.validAudio, "audio", ["id", "link"]],
      [Arbitraries.validSticker, "sticker", ["id", "link"]]
    ] as const
    for (const [arbitrary, type, keys] of byType) {
      for (const input of sample<MediaMessage.SendMediaInput>(arbitrary, 100)) {
        assert.strictEqual(input.type, type)
        const media = (input as unknown as Record<string, Record<string, unknown>>)[type]
        for (const key of Object.keys(media)) assert.include(keys as ReadonlyArray<string>, key)
        assert.isTrue(("id" in media) !== ("link" in media))
      }
    }
  })

  it("validMessage: every type, by id and by link, one and several recipients, replies and extra info", () => {
    const inputs = sample(Arbitraries.validMessage, 1000)
    const types = new Set(inputs.map((i) => i.type))
    assert.strictEqual(types.size, 5)
    const media = inputs.map((i) => (i as unknown as Record<string, Record<string, unknown>>)[i.type])
    assert.isTrue(media.some((m) => "id" in m) && media.some((m) => "link" in m))
    assert.isTrue(inputs.some((i) => typeof i.to === "string"))
    assert.isTrue(inputs.some((i) => Array.isArray(i.to) && i.to.length > 1))
    assert.isTrue(inputs.some((i) => i.replyTo !== undefined))
    assert.isTrue(inputs.some((i) => i.extraInfo?.waSource !== undefined))
  })

  it.prop("phoneNumber is E.164; phoneNumberInput normalises to E.164", [
    Arbitraries.phoneNumber,
    Arbitraries.phoneNumberInput
  ], ([e164, written]) => {
    assert.match(e164, /^\+[1-9][0-9]{7,14}$/)
    assert.isTrue(Either.isRight(MediaMessage.normalizePhoneNumber(written)))
  })

  it("text reaches the limits exactly, in code points, with astral characters", () => {
    const captions = sample(Arbitraries.caption, 600)
    const lengths = captions.map(MediaMessage.codePointLength)
    assert.isTrue(lengths.every((n) => n <= 1024))
    assert.isTrue(lengths.includes(1024))
    assert.isTrue(captions.some((c) => c.length > 1024), "1024 code points are more than 1024 UTF-16 units")
    assert.isTrue(captions.some(isAstral))

    const refs = sample(Arbitraries.ref, 600)
    assert.isTrue(refs.every((r) => MediaMessage.codePointLength(r) <= 255))
    assert.isTrue(refs.some((r) => MediaMessage.codePointLength(r) === 255))
    assert.isTrue(refs.some(isAstral))
    assert.isTrue(refs.includes(""))

    const filenames = sample(Arbitraries.filename, 600)
    assert.isTrue(filenames.every((f) => MediaMessage.codePointLength(f) <= 255 && /\.[a-z]+$/.test(f)))
    assert.isTrue(filenames.some((f) => MediaMessage.codePointLength(f) === 255))

    const links = sample(Arbitraries.mediaLink, 600)
    assert.isTrue(links.every((l) => l.length <= 2048))
    assert.isTrue(links.some((l) => l.length === 2048))
    assert.isTrue(links.some((l) => l.startsWith("http://")) && links.some((l) => l.startsWith("https://")))
  })
})
