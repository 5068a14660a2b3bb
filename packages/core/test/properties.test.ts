import { MediaMessage, sendMedia, SendMediaRequest } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, FastCheck } from "effect"
import { accepted, clientLayer } from "./utils.js"

const controlString = FastCheck.string({
  unit: FastCheck.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c))
})
const anyText = FastCheck.oneof(
  FastCheck.string(),
  FastCheck.string({ unit: "grapheme" }),
  FastCheck.string({ unit: "binary" }),
  controlString,
  FastCheck.constant("x".repeat(100_000)),
  FastCheck.constant("😀".repeat(2_000))
)
const anyValue = FastCheck.oneof(FastCheck.anything(), FastCheck.jsonValue(), anyText)
/** Objects that look like messages, with anything in each field. */
const messageLike = FastCheck.record({
  type: FastCheck.oneof(FastCheck.constantFrom(...MediaMessage.mediaTypes), anyValue),
  to: FastCheck.oneof(anyText, FastCheck.array(anyValue), anyValue),
  image: FastCheck.oneof(
    FastCheck.record({ id: anyValue, link: anyValue, caption: anyValue }, { requiredKeys: [] }),
    anyValue
  ),
  audio: FastCheck.oneof(FastCheck.record({ id: anyValue, link: anyValue }, { requiredKeys: [] }), anyValue),
  document: FastCheck.record({ id: anyValue, link: anyValue, filename: anyValue, caption: anyValue }, {
    requiredKeys: []
  }),
  replyTo: anyValue,
  extraInfo: FastCheck.oneof(
    FastCheck.record({ ref: anyValue, ref1: anyValue, ref2: anyValue, waSource: anyValue }, { requiredKeys: [] }),
    anyValue
  )
}, { requiredKeys: [] })

const knownTags = new Set(["InvalidMessage"])

describe("no input of any shape makes sendMedia die", () => {
  it.effect.prop(
    "random values and message-like objects",
    [FastCheck.oneof(anyValue, messageLike)],
    ([input]) =>
      Effect.gen(function*() {
        const { layer, seen } = clientLayer([accepted()])
        const exit = yield* sendMedia(input as MediaMessage.SendMediaInput).pipe(Effect.exit, Effect.provide(layer))
        if (Exit.isFailure(exit)) {
          assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
          const error = Cause.squash(exit.cause) as { _tag: string }
          assert.isTrue(knownTags.has(error._tag), error._tag)
          assert.strictEqual(seen.length, 0, "an invalid input sends nothing")
        } else {
          // Whatever was accepted must be exactly what validation says, and valid on the wire.
          assert.strictEqual(seen.length, 1)
          const decoded = SendMediaRequest.fromWireBody(JSON.parse(seen[0].body))
          assert.isTrue(Either.isRight(decoded))
          assert.deepStrictEqual(Either.getOrThrow(decoded), Either.getOrThrow(MediaMessage.validate(input)))
        }
      }),
    { fastCheck: { numRuns: 500 } }
  )

  it.prop("validate never throws", [FastCheck.oneof(anyValue, messageLike)], ([input]) => {
    const result = MediaMessage.validate(input)
    if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "InvalidMessage")
  }, { fastCheck: { numRuns: 2000 } })

  it.effect("hostile objects: throwing getters, proxies, cycles, bigint", () =>
    Effect.gen(function*() {
      const cyclic: Record<string, unknown> = { type: "image", to: "+919876543210" }
      cyclic.image = cyclic
      const hostile: ReadonlyArray<unknown> = [
        new Proxy({}, {
          get() {
            throw new Error("boom")
          }
        }),
        {
          type: "image",
          get to() {
            throw new Error("boom")
          },
          image: { id: "1" }
        },
        cyclic,
        { type: "image", to: "+919876543210", image: { id: 1n } },
        { type: "image", to: "+919876543210", image: Object.create(null) },
        Object.assign(Object.create({ type: "image" }), { to: "+919876543210", image: { id: "1" } }),
        { type: "image", to: "+919876543210", image: { id: "1" }, ["__proto__"]: { polluted: true } },
        Symbol("x"),
        () => 1
      ]
      for (const input of hostile) {
        const { layer } = clientLayer([accepted()])
        const exit = yield* sendMedia(input as MediaMessage.SendMediaInput).pipe(Effect.exit, Effect.provide(layer))
        assert.isFalse(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      }
    }))
})
