/**
 * sendMediaBatch over a 1 000 000-message Stream, in memory (KaleyraTest.layer, no rate limit): the heap after a
 * forced GC is sampled every 100 000 results and must not grow with the count. Run with
 * `node --expose-gc --import tsx --conditions=@effect-kaleyra/source src/million.ts [count]`.
 */
import { MediaMessage, sendMediaBatch } from "@effect-kaleyra/core"
import { KaleyraTest } from "@effect-kaleyra/testing"
import { Effect, Stream } from "effect"

const total = Number(process.argv[2] ?? 1_000_000)
const gc = (globalThis as { gc?: () => void }).gc
const heapMb = () => {
  gc?.()
  return process.memoryUsage().heapUsed / 1e6
}

const messages = Stream.range(0, total - 1).pipe(
  Stream.map((i) =>
    MediaMessage.image({
      to: `+91${String(9_000_000_000 + i)}`,
      link: "https://example.com/a.png",
      extraInfo: { ref: `r-${i}` }
    })
  )
)

const program = Effect.gen(function*() {
  const started = Date.now()
  const samples: Array<string> = []
  let count = 0
  let sent = 0
  yield* sendMediaBatch(messages, { concurrency: 64, rateLimit: false }).pipe(
    Stream.runForEach((result) =>
      Effect.sync(() => {
        count++
        if (result._tag === "Sent") sent++
        if (count % 100_000 === 0) samples.push(`${count}: heap ${heapMb().toFixed(1)} MB`)
      })
    )
  )
  const seconds = (Date.now() - started) / 1000
  console.log(samples.join("\n"))
  console.log(
    `${count} results (${sent} sent) in ${seconds.toFixed(1)} s; RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`
  )
}).pipe(
  Effect.provide(
    KaleyraTest.layer({ callbacks: false, historyLimit: 0, countRefs: false, balance: Number.MAX_SAFE_INTEGER })
  )
)

Effect.runPromise(program)
