import * as KaleyraSimulator from "@effect-kaleyra/testing/KaleyraSimulator"
import * as KaleyraTest from "@effect-kaleyra/testing/KaleyraTest"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Campaign from "../src/Campaign.js"
import { acceptedRefs, ledgers, rows, sendRequests } from "./helpers.js"

const unthrottled = { rateLimit: false } as const

const accountWide: ReadonlyArray<readonly [KaleyraSimulator.FailCode, string]> = [
  ["RBC001", "IncorrectCredentials"],
  ["WA401", "PhoneNumberNotFound"],
  ["WA-401-account", "ApiNotAvailable"],
  ["WA-401-phone_number", "PhoneNumberVersionMismatch"],
  ["E110", "LowBalance"],
  ["WAV2101", "DailyLimitReached"]
]

const reportOf = (name: string) => Effect.map(Stream.runCollect(Campaign.report(name)), Chunk.toReadonlyArray)

describe.each(ledgers)("on $name", ({ layer }) => {
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>, options: KaleyraTest.TestOptions = {}) =>
    effect.pipe(Effect.provide(Layer.merge(layer, KaleyraTest.layer({ callbacks: false, ...options }))))

  it.live.each(accountWide)(
    "%s (%s) pauses the campaign: its rows stay Pending until a run after the fix",
    ([code, tag]) =>
      provide(Effect.gen(function*() {
        const simulator = yield* KaleyraSimulator.KaleyraSimulator
        const input = rows(30)
        yield* Campaign.create({ name: "c", rows: input })
        // every send to row 12's recipient fails with the account-wide error
        yield* simulator.setScenario(input[12].input.to as string, code)
        const concurrency = 4
        const paused = yield* Campaign.run({ name: "c", concurrency, ...unthrottled })
        assert.strictEqual(paused.paused?.reason, tag)
        assert.strictEqual(paused.failed, 0, "an account-wide error fails no row")
        assert.strictEqual(paused.ambiguous, 0)
        assert.strictEqual(paused.sent + paused.pending, 30)
        // no send started after the pause: at most the sends already in flight finished
        const requests = yield* sendRequests(simulator)
        assert.isAtMost(requests, 13 + concurrency)
        const report = yield* reportOf("c")
        assert.strictEqual(report[12].state, "Pending")
        assert.strictEqual(report[12].errorTag, tag)
        const status = yield* Campaign.status("c")
        assert.strictEqual(status.paused?.reason, tag)
        assert.strictEqual(status.states.Pending, paused.pending)

        // running again before the fix pauses again, without sending row 12's message
        const again = yield* Campaign.run({ name: "c", concurrency, ...unthrottled })
        assert.strictEqual(again.paused?.reason, tag)
        assert.strictEqual((yield* reportOf("c"))[12].state, "Pending")

        // after the fix, running again resumes: every row sent, each once
        yield* simulator.clearScenario(input[12].input.to as string)
        const resumed = yield* Campaign.run({ name: "c", concurrency, ...unthrottled })
        assert.strictEqual(resumed.sent, 30)
        assert.isUndefined(resumed.paused)
        assert.isUndefined((yield* Campaign.status("c")).paused)
        const refs = yield* acceptedRefs(simulator)
        assert.strictEqual(refs.size, 30)
        assert.isTrue([...refs.values()].every((n) => n === 1))
      }))
  )

  it.live("a wrong API key costs one request: the run starts with one row", () =>
    provide(
      Effect.gen(function*() {
        const simulator = yield* KaleyraSimulator.KaleyraSimulator
        yield* Campaign.create({ name: "c", rows: rows(20) })
        const summary = yield* Campaign.run({ name: "c", concurrency: 8, ...unthrottled })
        assert.strictEqual(summary.paused?.reason, "IncorrectCredentials")
        assert.strictEqual(summary.pending, 20)
        assert.strictEqual(yield* sendRequests(simulator), 1)
      }),
      { client: { apiKey: Redacted.make("wrong-key") } }
    ))

  it.live("resendAmbiguous sends only the Ambiguous rows", () =>
    provide(
      Effect.gen(function*() {
        const simulator = yield* KaleyraSimulator.KaleyraSimulator
        yield* Campaign.create({ name: "c", rows: rows(12) })
        // the first two requests are never answered: the client's timeout leaves them Ambiguous
        yield* simulator.injectNext("silent", { times: 2 })
        const first = yield* Campaign.run({ name: "c", concurrency: 1, ...unthrottled })
        assert.deepStrictEqual([first.ambiguous, first.sent, first.failed], [2, 10, 0])
        const ambiguous = (yield* reportOf("c")).filter((r) => r.state === "Ambiguous")
        assert.deepStrictEqual(ambiguous.map((r) => r.line), [1, 2])
        assert.isTrue(ambiguous.every((r) => r.mayHaveReached && r.errorTag === "TransportError"))
        // a run does not resend them
        yield* Campaign.run({ name: "c", ...unthrottled })
        assert.strictEqual(yield* sendRequests(simulator), 12)

        assert.strictEqual(yield* Campaign.resendAmbiguous("c"), 2)
        const before = new Set((yield* acceptedRefs(simulator)).keys())
        const second = yield* Campaign.run({ name: "c", ...unthrottled })
        assert.strictEqual(second.sent, 12)
        assert.strictEqual(yield* sendRequests(simulator), 14)
        const resent = [...(yield* acceptedRefs(simulator)).keys()].filter((ref) => !before.has(ref)).sort()
        assert.deepStrictEqual(resent, ambiguous.map((r) => r.ref).sort())
        assert.strictEqual(yield* Campaign.resendAmbiguous("c"), 0)
      }),
      { timeout: "150 millis" }
    ))
})
