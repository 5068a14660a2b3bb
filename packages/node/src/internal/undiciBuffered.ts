/**
 * One request of the lean transport on an undici dispatcher: dispatched, its response read whole (at most
 * `KaleyraTransport.MAX_RESPONSE_BYTES`; a longer body is not read and the exchange is aborted) and answered once, as
 * a status, two headers and a text, within its deadline.
 *
 * @internal
 */
import * as KaleyraTransport from "@effect-kaleyra/core/KaleyraTransport"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type { Dispatcher } from "undici"
import { Attempt, decoder, join, latin1, NO_HEADERS, TransportFailure } from "./undiciAttempt.js"
import type { Target, Targets } from "./undiciTargets.js"

type ExchangeResume = (
  effect: Effect.Effect<KaleyraTransport.Response, KaleyraTransport.Failure>
) => void

/** The body was longer than `KaleyraTransport.MAX_RESPONSE_BYTES`: the exchange is aborted once answered. */
class BodyTooLargeError extends Error {
  constructor() {
    super("the response body is too large to read")
    this.name = "BodyTooLargeError"
  }
}

/** The latin1 text of a raw header name when it is `name` (lower case), compared without decoding others. */
const isHeader = (raw: Buffer | string, name: string): boolean =>
  raw.length === name.length && latin1(raw).toLowerCase() === name

/**
 * One `KaleyraTransport` send: reads the whole response (at most `KaleyraTransport.MAX_RESPONSE_BYTES`) and
 * answers once, when it is complete.
 */
class BufferedExchange extends Attempt {
  status: number | undefined = undefined
  contentType: string | undefined = undefined
  retryAfter: string | undefined = undefined
  chunks: Array<Buffer> = []
  size = 0
  constructor(reportsConnect: boolean, private resume: ExchangeResume | undefined) {
    super(reportsConnect)
  }

  /**
   * Hands the outcome to the waiting fiber, once, after the I/O callbacks of this turn of the event loop: by then
   * undici has released the connection (it marks it free in a microtask queued after `onComplete`), so the fiber's
   * next request reuses it. Resumed at once, the fiber would find every connection busy and the pool would open a
   * new one: twice as many connections as requests in flight, and more CPU per request (see bench/README.md).
   */
  private settle(outcome: Effect.Effect<KaleyraTransport.Response, KaleyraTransport.Failure>): void {
    this.clearTimer()
    const callback = this.resume
    if (callback === undefined) return
    this.resume = undefined
    setImmediate(callback, outcome)
  }

  onHeaders(statusCode: number, rawHeaders: Array<Buffer | string> | null): boolean {
    if (statusCode < 200) return true
    this.status = statusCode
    let length: string | undefined = undefined
    const raw = rawHeaders ?? NO_HEADERS
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]
      if (isHeader(name, "content-type")) this.contentType = join(this.contentType, latin1(raw[i + 1]))
      else if (isHeader(name, "retry-after")) this.retryAfter = join(this.retryAfter, latin1(raw[i + 1]))
      else if (isHeader(name, "content-length")) length = join(length, latin1(raw[i + 1]))
    }
    // Announced as too large (or not a number): read nothing more.
    if (length !== undefined && !(Number(length) <= KaleyraTransport.MAX_RESPONSE_BYTES)) this.tooLarge()
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.resume === undefined) return true
    this.size += chunk.length
    if (this.size > KaleyraTransport.MAX_RESPONSE_BYTES) {
      this.tooLarge()
      return true
    }
    this.chunks.push(chunk)
    return true
  }

  onComplete(): void {
    this.complete = true
    this.abortFn = undefined
    const chunks = this.chunks
    this.chunks = []
    this.answer(chunks.length === 0 ? "" : decoder.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
  }

  protected report(error: unknown): void {
    if (this.resume === undefined) return
    this.chunks = []
    this.settle(Effect.fail({ cause: this.failureOf(error), status: this.status, contentType: this.contentType }))
  }

  private answer(body: string | undefined): void {
    if (this.resume === undefined) return
    this.settle(
      Effect.succeed({ status: this.status!, contentType: this.contentType, retryAfter: this.retryAfter, body })
    )
  }

  /** Answers without the body, then aborts the exchange so that the rest is not read. */
  private tooLarge(): void {
    this.chunks = []
    this.answer(undefined)
    this.interrupted = true
    const abort = this.abortFn
    this.abortFn = undefined
    if (abort !== undefined) abort(new BodyTooLargeError())
  }

  override interrupt(): void {
    this.resume = undefined
    super.interrupt()
  }
}

/**
 * Sends one request to `url` through `dispatcher` and reads its response. Interruption aborts the request at once.
 *
 * @internal
 */
export const dispatchBuffered = (
  dispatcher: Dispatcher,
  reportsConnect: boolean,
  targets: Targets,
  method: string,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: Exclude<Dispatcher.DispatchOptions["body"], undefined>,
  timeoutMillis: number
): Effect.Effect<KaleyraTransport.Response, KaleyraTransport.Failure> => {
  const target: Target | Error = targets.resolveUrl(url)
  if (target instanceof Error) return Effect.fail({ cause: new TransportFailure(target, false) })
  // The wait is interruptible inside a mask, and the failure handler sees the interruption. `Effect.async`'s own
  // canceler does the same through `onInterrupt` and `onExit`, which cost more per request under load.
  return Effect.uninterruptibleMask((restore) => {
    let attempt: BufferedExchange | undefined
    return Effect.catchAllCause(
      restore(Effect.async<KaleyraTransport.Response, KaleyraTransport.Failure>((resume) => {
        attempt = new BufferedExchange(reportsConnect, resume)
        attempt.startTimer(timeoutMillis)
        try {
          dispatcher.dispatch({
            origin: target.origin,
            path: target.path,
            method: method as Dispatcher.HttpMethod,
            headers,
            body
          }, attempt as Dispatcher.DispatchHandler)
        } catch (error) {
          attempt.onError(error instanceof Error ? error : new Error(String(error)))
        }
      })),
      (cause) => {
        if (Cause.isInterruptedOnly(cause)) attempt?.interrupt()
        return Effect.failCause(cause)
      }
    )
  })
}
