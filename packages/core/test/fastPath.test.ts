/**
 * `MediaMessage.validate` accepts a plainly valid input without running the schema (`internal/validate.ts`'s
 * `acceptPlain`). These properties hold that fast path equal to the schema decode, which stays the specification:
 * whatever it accepts, the schema accepts, with the same message (key order included); a plainly valid input takes it.
 */
import { MediaMessage } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck, Schema } from "effect"
import { acceptPlain } from "../src/internal/validate.js"

const options = { errors: "all", onExcessProperty: "error" } as const
const decodeMember = Object.fromEntries(
  MediaMessage.SendMediaInput.members.map((member) => [
    member.fields.type.literals[0],
    Schema.decodeUnknownEither(member as Schema.Schema<MediaMessage.MediaMessage, unknown>, options)
  ])
)

type Fields = Record<string, unknown>

/** The fast path never accepts what the schema refuses, and what it accepts is what the schema decodes. */
const assertAgree = (type: MediaMessage.MediaType, input: object) => {
  const fast = acceptPlain(type, input)
  if (fast === undefined) return undefined
  const decoded = decodeMember[type](input)
  assert.isTrue(Either.isRight(decoded), "the fast path accepted an input the schema refuses")
  if (Either.isRight(decoded)) {
    assert.strictEqual(JSON.stringify(fast), JSON.stringify(decoded.right))
    assert.deepStrictEqual(fast, decoded.right)
  }
  return fast
}

const valid = {
  to: FastCheck.oneof(
    FastCheck.constantFrom("+919876543210", "+91 98765-43210", "+1 (415) 555-0123"),
    FastCheck.uniqueArray(FastCheck.constantFrom("+919876543210", "+14155550123", "+447700900123"), {
      minLength: 1,
      maxLength: 3
    })
  ),
  id: FastCheck.stringMatching(/^[0-9]{1,20}$/),
  link: FastCheck.constantFrom("https://example.com/a.png", "http://cdn.example.com/b?x=1", "https://café.fr/c.pdf"),
  caption: FastCheck.string({ unit: "grapheme", maxLength: 40 }),
  filename: FastCheck.stringMatching(/^[a-z]{1,12}\.pdf$/),
  ref: FastCheck.string({ maxLength: 20 }),
  waSource: FastCheck.constantFrom(...MediaMessage.waSources),
  replyTo: FastCheck.constantFrom("wamid.HBgLMTIzNDU2Nzg5MA", "gBEGkYiEB1VXAglK1ZEqA1YKPrU")
} as const

const awkward: FastCheck.Arbitrary<unknown> = FastCheck.oneof(
  FastCheck.constantFrom(undefined, null, 0, "", " ", "\ud800", "x".repeat(3000), "ftp://a.b/c", "api", [], {}),
  FastCheck.string(),
  FastCheck.anything()
)

/** A field's valid values, or (when `mixed`) awkward ones too. */
const field = (arbitrary: FastCheck.Arbitrary<unknown>, mixed: boolean) =>
  mixed ? FastCheck.oneof(arbitrary, awkward) : arbitrary

const mediaFields: Record<MediaMessage.MediaType, ReadonlyArray<"caption" | "filename">> = {
  audio: [],
  sticker: [],
  image: ["caption"],
  video: ["caption"],
  document: ["caption", "filename"]
}

/** A message of each media type: only valid fields, or (when `mixed`) an awkward value or an unknown key here and there. */
const message = (mixed: boolean): FastCheck.Arbitrary<readonly [MediaMessage.MediaType, Fields]> =>
  FastCheck.constantFrom(...MediaMessage.mediaTypes).chain((type) => {
    const source = FastCheck.oneof(
      FastCheck.record({ id: field(valid.id, mixed) }),
      FastCheck.record({ link: field(valid.link, mixed) }),
      ...(mixed ? [FastCheck.record({ id: valid.id, link: valid.link }), FastCheck.constant({})] : [])
    )
    const extras = FastCheck.record(
      Object.fromEntries(mediaFields[type].map((key) => [key, field(valid[key], mixed)])),
      { requiredKeys: [] }
    )
    const extraInfo = FastCheck.record({
      ref: field(valid.ref, mixed),
      ref1: field(valid.ref, mixed),
      ref2: field(valid.ref, mixed),
      waSource: field(valid.waSource, mixed)
    }, { requiredKeys: [] })
    const foreign = mixed
      ? FastCheck.option(FastCheck.constantFrom("caption", "filename", "other"))
      : FastCheck.constant(null)
    return FastCheck.tuple(
      field(valid.to, mixed),
      source,
      extras,
      FastCheck.option(field(valid.replyTo, mixed), { nil: undefined }),
      FastCheck.option(mixed ? FastCheck.oneof(extraInfo, awkward) : extraInfo, { nil: undefined }),
      foreign
    ).map(([to, src, more, replyTo, info, key]) => {
      const media: Fields = { ...src, ...more }
      if (key !== null) media[key] = "x"
      const input: Fields = { type, to, [type]: media }
      if (replyTo !== undefined) input.replyTo = replyTo
      if (info !== undefined) input.extraInfo = info
      return [type, input] as const
    })
  })

describe("validate's fast path agrees with the schema decode", () => {
  it.prop("a plainly valid message takes the fast path, and gets what the schema decodes", [message(false)], ([[
    type,
    input
  ]]) => {
    assert.isDefined(assertAgree(type, input), "a plainly valid message left the fast path")
  }, { fastCheck: { numRuns: 2000 } })

  it.prop("awkward values and unknown keys: what the fast path accepts, the schema decodes the same", [
    message(true)
  ], ([[type, input]]) => {
    assertAgree(type, input)
  }, { fastCheck: { numRuns: 4000 } })

  it("what the builders make takes the fast path", () => {
    const to = ["+919876543210", "+14155550123"] as const
    const extraInfo = { ref: "order-1", waSource: "api" } as const
    const built = [
      MediaMessage.image({ to, link: "https://example.com/a.png", caption: "Hi", extraInfo }),
      MediaMessage.video({ to: "+919876543210", id: "1012345678901291", replyTo: "wamid.HBgL" }),
      MediaMessage.document({ to, link: "https://example.com/a.pdf", filename: "a.pdf" }),
      MediaMessage.audio({ to: "+91 98765-43210", id: "1012345678901291" }),
      MediaMessage.sticker({ to, link: "https://example.com/a.webp", extraInfo })
    ]
    for (const input of built) assert.isDefined(assertAgree(input.type, input), JSON.stringify(input))
  })

  it("defers what is not plain: a wrong or missing type, undefined values, class instances, symbol keys", () => {
    const image = { to: "+919876543210", image: { id: "1012345678901291" } }
    assert.isDefined(acceptPlain("image", { ...image, type: "image" }))
    assert.isUndefined(acceptPlain("image", { ...image, type: "video" }))
    assert.isUndefined(acceptPlain("image", image))
    assert.isUndefined(acceptPlain("image", { ...image, type: "image", replyTo: undefined }))
    assert.isUndefined(acceptPlain("image", { ...image, type: "image", [Symbol.for("trace")]: 1 }))
    class Media {
      constructor(readonly id: string) {}
    }
    assert.isUndefined(acceptPlain("image", { type: "image", to: "+919876543210", image: new Media("1") }))
    const throwing = {
      type: "image",
      to: "+919876543210",
      get image(): never {
        throw new Error("boom")
      }
    }
    assert.isUndefined(acceptPlain("image", throwing))
  })
})
