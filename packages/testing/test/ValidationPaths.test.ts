/**
 * `MediaMessage.validate` accepts plainly valid inputs without running the schema, and `toWire` encodes without it.
 * These properties hold both fast paths equal to the public schemas, which stay the specification: `SendMediaInput`
 * for validation, `SendMediaRequest` for the wire body. (The validation fast path alone is held to the schema decode
 * by core's `fastPath.test.ts`.)
 */
import { MediaMessage, SendMediaRequest } from "@effect-kaleyra/core"
import { Arbitraries } from "@effect-kaleyra/testing"
import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck, Schema } from "effect"

const options = { errors: "all", onExcessProperty: "error" } as const
const decodeUnion = Schema.decodeUnknownEither(MediaMessage.SendMediaInput, options)
const decodeMember = Object.fromEntries(
  MediaMessage.SendMediaInput.members.map((member) => [
    member.fields.type.literals[0],
    Schema.decodeUnknownEither(member as Schema.Schema<MediaMessage.MediaMessage, unknown>, options)
  ])
)
/** The schema, chosen as `validate` chooses it: by the input's `type`, read once. */
const decodeInput = (input: unknown) => {
  const type = typeOf(input)
  return typeof type === "string" && Object.hasOwn(decodeMember, type) ? decodeMember[type](input) : decodeUnion(input)
}
const encodeWire = Schema.encodeSync(SendMediaRequest.SendMediaRequest)

type Fields = Record<string, unknown>

const typeOf = (input: unknown): unknown =>
  typeof input === "object" && input !== null ? (input as { readonly type?: unknown }).type : undefined

/** `validate` and the schema agree: both accept, with the same message (key order included), or both refuse. */
const assertAgree = (input: unknown) => {
  const validated = MediaMessage.validate(input)
  const decoded = decodeInput(input)
  assert.strictEqual(
    Either.isRight(validated),
    Either.isRight(decoded),
    Either.isLeft(validated) ? `validate refused: ${validated.left.message}` : "validate accepted, the schema refused"
  )
  if (Either.isRight(validated) && Either.isRight(decoded)) {
    assert.strictEqual(JSON.stringify(validated.right), JSON.stringify(decoded.right))
    assert.deepStrictEqual(validated.right, decoded.right)
  }
}

class Media {
  constructor(readonly link: string) {}
}

/** A valid message written another way a program may write it. Some of these leave the fast path (on purpose). */
const rewritten: FastCheck.Arbitrary<unknown> = FastCheck.tuple(
  Arbitraries.validMessage,
  FastCheck.constantFrom(
    "as-is",
    "prototype-less",
    "undefined replyTo",
    "undefined caption",
    "symbol key",
    "class instance media",
    "keys reversed",
    "non-enumerable extra key"
  )
).map(([message, how]) => {
  const fields: Fields = { ...message }
  const type = message.type
  const media = fields[type] as Fields
  switch (how) {
    case "as-is":
      return fields
    case "prototype-less":
      return Object.assign(Object.create(null), fields, { [type]: Object.assign(Object.create(null), media) })
    case "undefined replyTo":
      return { ...fields, replyTo: undefined }
    case "undefined caption":
      return { ...fields, [type]: { ...media, caption: undefined } }
    case "symbol key":
      return { ...fields, [Symbol.for("trace")]: "x" }
    case "class instance media":
      return { ...fields, [type]: new Media("https://example.com/a.png") }
    case "keys reversed":
      return Object.fromEntries(
        Object.entries(fields).reverse().map(([k, v]) =>
          k === type ? [k, Object.fromEntries(Object.entries(v as Fields).reverse())] : [k, v]
        )
      )
    case "non-enumerable extra key":
      return Object.defineProperty({ ...fields }, "hidden", { value: 1, enumerable: false })
  }
})

/** A valid message with one field (top level, media object or extraInfo) set to an awkward value. */
const awkwardValue = FastCheck.oneof(
  FastCheck.constantFrom(undefined, null, 0, "", " ", "\ud800", "x".repeat(3000), "+919876543210", [], {}, "api"),
  FastCheck.string(),
  FastCheck.anything()
)
const mutated: FastCheck.Arbitrary<unknown> = FastCheck.tuple(
  Arbitraries.validMessage,
  FastCheck.constantFrom("top", "media", "extraInfo"),
  FastCheck.constantFrom(
    "to",
    "type",
    "replyTo",
    "extraInfo",
    "id",
    "link",
    "caption",
    "filename",
    "ref",
    "ref1",
    "ref2",
    "waSource",
    "image",
    "audio",
    "other"
  ),
  awkwardValue
).map(([message, where, key, value]) => {
  const fields: Fields = { ...message }
  const type = message.type
  if (where === "top") return { ...fields, [key]: value }
  if (where === "media") return { ...fields, [type]: { ...(fields[type] as Fields), [key]: value } }
  return { ...fields, extraInfo: { ...(fields.extraInfo as Fields | undefined), [key]: value } }
})

describe("validate agrees with the SendMediaInput schema", () => {
  it.prop("valid messages, as generated", [Arbitraries.validMessage], ([input]) => {
    assertAgree(input)
  }, { fastCheck: { numRuns: 2000 } })

  it.prop("valid messages written in other ways", [rewritten], ([input]) => assertAgree(input), {
    fastCheck: { numRuns: 2000 }
  })

  it.prop("valid messages with one awkward field", [mutated], ([input]) => assertAgree(input), {
    fastCheck: { numRuns: 4000 }
  })

  it.prop("invalid messages: both refuse, the fast path defers", [Arbitraries.invalidMessage], ([{ input }]) => {
    assertAgree(input)
  }, { fastCheck: { numRuns: 3000 } })

  it("a type that changes between reads: validate dispatches on the first read, the schema refuses", () => {
    const image = { to: "+919876543210", image: { id: "1012345678901291" } }
    let reads = 0
    const changing = {
      ...image,
      get type() {
        return reads++ === 0 ? "image" : "video"
      }
    }
    // validate dispatches on the first read; the schema, reading again, sees a video without a video object.
    assert.isTrue(Either.isLeft(MediaMessage.validate(changing)))
  })

  it("proxies whose key list and properties disagree: validate still agrees with the schema", () => {
    const hiding = (fields: Fields, hidden: string) =>
      new Proxy(fields, { ownKeys: (target) => Reflect.ownKeys(target).filter((key) => key !== hidden) })
    const base = { type: "image", to: "+919876543210", image: { id: "1012345678901291" } }
    // A field left out of the key list is still read when it is an own property, as the schema reads it.
    assertAgree(hiding({ ...base, replyTo: "not valid" }, "replyTo"))
    assertAgree(hiding({ ...base, replyTo: "wamid.HBgL" }, "replyTo"))
    assertAgree(hiding({ ...base, extraInfo: { ref: "x".repeat(300) } }, "extraInfo"))
    assertAgree(hiding({ ...base, extraInfo: { ref: "order-1" } }, "extraInfo"))
    // Keys listed but not own properties: present to the key check, absent to the fields.
    const fields: Fields = { ...base, replyTo: "wamid.HBgL" }
    assertAgree(new Proxy({}, { ownKeys: () => Object.keys(fields), get: (_, key) => fields[key as string] }))
  })

  it("a throwing getter defers to the schema, which reports it", () => {
    const input = {
      type: "image",
      to: "+919876543210",
      get image(): never {
        throw new Error("boom")
      }
    }
    const result = MediaMessage.validate(input)
    assert.isTrue(Either.isLeft(result))
  })
})

describe("toWire agrees with the SendMediaRequest schema", () => {
  it.prop(
    "byte for byte, key order included",
    [FastCheck.oneof(Arbitraries.validMessage, rewritten)],
    ([input]) => {
      const validated = MediaMessage.validate(input)
      if (Either.isLeft(validated)) return
      const message = validated.right
      assert.strictEqual(JSON.stringify(SendMediaRequest.toWire(message)), JSON.stringify(encodeWire(message)))
      // The text the client sends is that JSON, character for character.
      assert.strictEqual(SendMediaRequest.toWireJson(message), JSON.stringify(SendMediaRequest.toWire(message)))
      // And the body decodes back into the same message.
      const back = SendMediaRequest.fromWireBody(JSON.parse(JSON.stringify(SendMediaRequest.toWire(message))))
      assert.deepStrictEqual(Either.getOrThrow(back), JSON.parse(JSON.stringify(message)))
    },
    { fastCheck: { numRuns: 2000 } }
  )

  it("toWireJson of a message not made by validate (a field that is not a string) is JSON.stringify's", () => {
    const odd = [
      { type: "image", to: ["+919876543210"], image: { link: "https://a.b/c.png", caption: 42 } },
      { type: "video", to: ["+919876543210"], video: { id: () => "x" }, extraInfo: { ref: Symbol("r") } },
      { type: "document", to: ["+919876543210"], document: { id: "1", filename: { toJSON: () => "f.pdf" } } }
    ] as unknown as ReadonlyArray<MediaMessage.MediaMessage>
    for (const message of odd) {
      const json = SendMediaRequest.toWireJson(message)
      assert.strictEqual(json, JSON.stringify(SendMediaRequest.toWire(message)))
      JSON.parse(json)
    }
  })

  it("toWireJson escapes exactly as JSON.stringify: quotes, backslashes, controls, astral characters", () => {
    const awkward = ["say \"hi\"", "C:\\path\\", "line 1\nline 2\ttab\r", "\u0001\u001f\u007f", "😀 नमस्ते", "</script>"]
    for (const text of awkward) {
      const message = Either.getOrThrow(MediaMessage.validate({
        type: "document",
        to: ["+919876543210", "+14155550123"],
        document: { link: "https://example.com/a?q=\"x\"", caption: text, filename: "a.pdf" },
        replyTo: "wamid.HBgL",
        extraInfo: { ref: text, ref1: "", ref2: "r2", waSource: "api" }
      }))
      const json = SendMediaRequest.toWireJson(message)
      assert.strictEqual(json, JSON.stringify(SendMediaRequest.toWire(message)))
      assert.strictEqual(JSON.parse(json).messaging_object.document.caption, text)
    }
  })
})

/**
 * Every string of a message that goes on the wire, as [where it is in the input, the field an `InvalidMessage` names
 * for it]: `to` (or each recipient), `type`, each field of the media object, `replyTo`, each field of `extraInfo`.
 */
const stringFields = (input: Fields): ReadonlyArray<readonly [ReadonlyArray<string | number>, string]> => {
  const type = input.type as string
  const to = input.to as string | ReadonlyArray<string>
  const nested = (key: string) =>
    input[key] === undefined
      ? []
      : Object.keys(input[key] as Fields).map((field) => [[key, field], `${key}.${field}`] as const)
  return [
    ...(typeof to === "string" ? [[["to"], "to"] as const] : to.map((_, i) => [["to", i], `to[${i}]`] as const)),
    [["type"], "type"],
    ...nested(type),
    ...(input.replyTo !== undefined ? [[["replyTo"], "replyTo"] as const] : []),
    ...nested("extraInfo")
  ]
}

/** A deep copy of `input` with `update` applied to the string at `path`. */
const updated = (input: Fields, path: ReadonlyArray<string | number>, update: (s: string) => string): Fields => {
  const copy = JSON.parse(JSON.stringify(input)) as Fields
  const parent = path.slice(0, -1).reduce((u: Fields, key) => u[key] as Fields, copy)
  const key = path[path.length - 1]
  parent[key] = update(parent[key] as string)
  return copy
}

describe("an unpaired surrogate is refused in every string that goes on the wire", () => {
  it.prop(
    "in any field, at any place: the input is refused, naming the field; the message schema refuses it too",
    [
      Arbitraries.validMessage,
      FastCheck.nat(),
      FastCheck.nat(),
      // one code unit: inserted anywhere in well-formed text, it cannot pair with both neighbours
      FastCheck.constantFrom("\ud800", "\udbff", "\udc00", "\udfff")
    ],
    ([message, which, at, lone]) => {
      const input = message as unknown as Fields
      const fields = stringFields(input)
      const [path, field] = fields[which % fields.length]
      const insert = (s: string) => {
        const i = at % (s.length + 1)
        return s.slice(0, i) + lone + s.slice(i)
      }
      const result = MediaMessage.validate(updated(input, path, insert))
      assert.isTrue(Either.isLeft(result), `${field} accepted an unpaired surrogate`)
      if (Either.isLeft(result)) assert.strictEqual(result.left.field, field, result.left.message)
      // The same field of the validated message (recipients as an array), decoded as the wire body is decoded.
      const validated = Either.getOrThrow(MediaMessage.validate(input)) as unknown as Fields
      const wirePath = path[0] === "to" ? ["to", path.length > 1 ? path[1] : 0] : path
      const decoded = Schema.decodeUnknownEither(MediaMessage.MediaMessage)(updated(validated, wirePath, insert))
      assert.isTrue(Either.isLeft(decoded), `the schema accepted an unpaired surrogate in ${field}`)
    },
    { fastCheck: { numRuns: 3000 } }
  )
})
