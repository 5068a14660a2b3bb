import { type Batch, type MediaMessage, Pacer, sendMediaBatch } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Stream } from "effect"
import { collect, defectsOf, fakeKaleyra, message, ok } from "./batchUtils.js"

/** Options that no batch may take: each must be refused at once, naming the option, and never mean "no limit". */
const refused: ReadonlyArray<readonly [string, Batch.BatchOptions<MediaMessage.SendMediaInput, number>]> = [
  ["rateLimit.limit", { rateLimit: { limit: Number.NaN } }],
  ["rateLimit.limit", { rateLimit: { limit: Number.POSITIVE_INFINITY } }],
  ["rateLimit.limit", { rateLimit: { limit: 0 } }],
  ["rateLimit.limit", { rateLimit: { limit: -5 } }],
  ["rateLimit.limit", { rateLimit: { limit: "10" as unknown as number } }],
  // positive and finite, but so small (or the interval so long) that the spacing between sends overflows to Infinity
  ["rateLimit.limit", { rateLimit: { limit: 5e-324 } }],
  ["rateLimit.limit", { rateLimit: { limit: 0.5, interval: Number.MAX_VALUE } }],
  ["rateLimit.interval", { rateLimit: { limit: 10, interval: "-1 second" } }],
  ["rateLimit.interval", { rateLimit: { limit: 10, interval: 0 } }],
  ["rateLimit.interval", { rateLimit: { limit: 10, interval: -1000 } }],
  ["rateLimit.interval", { rateLimit: { limit: 10, interval: Number.NaN } }],
  ["rateLimit.interval", { rateLimit: { limit: 10, interval: "one second" as "1 second" } }],
  ["rateLimit.interval", { rateLimit: { limit: 10, interval: "Infinity" as "1 second" } }],
  ["rateLimit", { rateLimit: null as unknown as false }],
  ["rateLimit", { rateLimit: true as unknown as false }],
  ["concurrency", { concurrency: Number.NaN }],
  ["interruptGrace", { interruptGrace: Number.NaN }],
  ["interruptGrace", { interruptGrace: -1 }],
  ["interruptGrace", { interruptGrace: "-2 seconds" }],
  ["interruptGrace", { interruptGrace: "Infinity" as "1 second" }],
  ["interruptGrace", { interruptGrace: "a while" as "1 second" }]
]

describe("sendMediaBatch options", () => {
  it.effect("an invalid rate limit: the stream dies at once with an IllegalArgumentException naming it, nothing sent", () =>
    Effect.forEach(refused, ([name, options]) =>
      Effect.gen(function*() {
        const { hits, layer } = fakeKaleyra((to) => ok(to))
        const exit = yield* sendMediaBatch([message(0), message(1)], options).pipe(
          Stream.runCollect,
          Effect.provide(layer),
          Effect.exit
        )
        const label = `${name}: ${JSON.stringify(options)}`
        const [defect] = defectsOf(exit)
        assert.instanceOf(defect, Cause.IllegalArgumentException, label)
        assert.include((defect as Error).message, `sendMediaBatch: ${name} `, label)
        assert.strictEqual(hits.length, 0, label)
      }), { discard: true }))

  it.effect("Pacer.make refuses the same values, naming them", () =>
    Effect.forEach(
      [
        ["limit", { limit: Number.NaN, interval: "1 second" }],
        ["limit", { limit: -1, interval: "1 second" }],
        ["interval", { limit: 10, interval: "-1 second" }],
        ["interval", { limit: 10, interval: "soon" as "1 second" }]
      ] as const,
      ([name, options]) =>
        Effect.gen(function*() {
          const [defect] = defectsOf(yield* Effect.exit(Pacer.make(options)))
          assert.instanceOf(defect, Cause.IllegalArgumentException, name)
          assert.include((defect as Error).message, `Pacer.make: ${name} `)
        }),
      { discard: true }
    ))

  it.effect("a limit below one per interval is kept exactly: 0.5 per second is one send every 2 seconds", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to) => ok(to))
      const results = yield* collect(
        sendMediaBatch(Array.from({ length: 4 }, (_, i) => message(i)), { rateLimit: { limit: 0.5 } }).pipe(
          Stream.provideLayer(layer)
        )
      )
      assert.strictEqual(results.length, 4)
      assert.deepStrictEqual(hits.map((hit) => hit.at), [0, 2000, 4000, 6000])
    }))
})
