import { KaleyraClient, type KaleyraConfig, type MediaMessage } from "@effect-kaleyra/core"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { Cause, Chunk, Clock, type Duration, Effect, Exit, Fiber, Layer, Stream, TestClock } from "effect"
import { baseOptions, httpLayer, seedFailures } from "./utils.js"

export interface Hit {
  readonly at: number
  readonly to: string
}

/** A fake Kaleyra that answers by recipient, and records when each request arrived (on the TestClock). */
export const fakeKaleyra = (
  answer: (to: string, hit: number) => { status: number; body: string; headers?: Record<string, string> },
  /** How long Kaleyra takes to answer this recipient (default: at once). */
  delay?: (to: string) => Duration.DurationInput | undefined,
  /** Client options beside the test defaults. */
  options: Partial<KaleyraConfig.Options> = {}
) => {
  const hits: Array<Hit> = []
  const client = HttpClient.make((request) =>
    Effect.flatMap(Clock.currentTimeMillis, (at) => {
      const body = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : "{}"
      const to = JSON.parse(body).messaging_object.to as string
      hits.push({ at, to })
      const reply = answer(to, hits.filter((h) => h.to === to).length)
      const response = Effect.sync(() =>
        HttpClientResponse.fromWeb(
          request,
          new Response(reply.body, {
            status: reply.status,
            headers: { "content-type": "application/json", ...reply.headers }
          })
        )
      )
      const wait = delay?.(to)
      return wait === undefined ? response : Effect.delay(response, wait)
    })
  )
  const layer = KaleyraClient.layer({ ...baseOptions, retryBaseDelay: "100 millis", ...options }).pipe(
    Layer.provide(httpLayer(client))
  )
  return { hits, client, layer }
}

export const ok = (to: string) => ({
  status: 202,
  body: JSON.stringify({ code: "WA202", message: "Request Accepted", data: { message_id: `id-${to}` }, error: {} })
})
export const fail = (name: keyof typeof seedFailures) => ({
  status: seedFailures[name].status,
  body: JSON.stringify(seedFailures[name].body)
})

export const message = (i: number): MediaMessage.SendMediaInput => ({
  type: "image",
  to: `+9198765${String(i).padStart(5, "0")}`,
  image: { link: `https://example.com/${i}.png` }
})

/** 0 to n - 1. */
export const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** Runs a stream to completion, advancing the TestClock as needed. */
export const collect = <A, E>(stream: Stream.Stream<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Stream.runCollect(stream))
    for (let i = 0; i < 10_000; i++) {
      yield* Effect.yieldNow()
      if ((yield* Fiber.poll(fiber))._tag === "Some") break
      yield* TestClock.adjust("50 millis")
    }
    return Chunk.toArray(yield* Fiber.join(fiber))
  })

/** The defects an exit died with (none if it succeeded). */
export const defectsOf = (exit: Exit.Exit<unknown, unknown>): ReadonlyArray<unknown> =>
  Exit.isFailure(exit) ? Chunk.toReadonlyArray(Cause.defects(exit.cause)) : []
