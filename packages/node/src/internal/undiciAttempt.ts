/**
 * What every undici exchange shares: the failure it reports (`TransportFailure`, with `requestSent`), and the
 * dispatch handler's bookkeeping (abort callback, whether the request may have been written, the deadline).
 *
 * @internal
 */
import * as KaleyraTransport from "@effect-kaleyra/core/KaleyraTransport"
import type { Dispatcher } from "undici"
import { Agent } from "./undici.js"

/**
 * The `cause` of every transport failure raised by this client: one line of what happened (never the request or its
 * headers), the system or undici `code` (`ECONNREFUSED`, `UND_ERR_SOCKET`, ...) and whether any byte of the request
 * may have been written to a socket.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportFailure extends Error {
  /**
   * The system or undici error code, when there is one.
   *
   * @since 0.1.0
   */
  readonly code: string | undefined
  /**
   * `true` once the request was handed to a connection (any byte of it may have been written, even if the
   * connection failed mid-write or the dispatcher was destroyed under it): the server may have received it. `false`
   * means no byte of it can have been written (never connected, refused, or aborted while it waited for a
   * connection).
   *
   * @since 0.1.0
   */
  readonly requestSent: boolean

  constructor(cause: unknown, requestSent: boolean, code: string | undefined = codeOf(cause)) {
    super(messageOf(cause), { cause })
    this.name = "TransportFailure"
    this.code = code
    this.requestSent = requestSent
  }
}

const codeOf = (error: unknown): string | undefined => {
  let cursor: unknown = error
  for (let depth = 0; depth < 4 && typeof cursor === "object" && cursor !== null; depth++) {
    const candidate = cursor as { readonly code?: unknown; readonly cause?: unknown; readonly errors?: unknown }
    if (typeof candidate.code === "string") return candidate.code
    cursor = candidate.cause ?? (Array.isArray(candidate.errors) ? candidate.errors[0] : undefined)
  }
  return undefined
}

const messageOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const candidate = error as { readonly message?: unknown; readonly errors?: unknown }
    if (typeof candidate.message === "string" && candidate.message !== "") return candidate.message
    if (Array.isArray(candidate.errors) && candidate.errors.length > 0) return messageOf(candidate.errors[0])
  }
  return typeof error === "string" && error !== "" ? error : "the connection failed"
}

export class InterruptedError extends Error {
  constructor() {
    super("the request was interrupted")
    this.name = "InterruptedError"
  }
}

/** The attempt's deadline passed. */
class TimeoutError extends Error {
  readonly code = KaleyraTransport.TIMEOUT_CODE
  constructor(millis?: number) {
    super(millis === undefined ? "timed out" : `no complete response within ${millis} ms`)
    this.name = "TimeoutError"
  }
}

/**
 * What every exchange does as an undici (legacy) dispatch handler: keep the abort callback, know whether the request
 * may have reached the server, and enforce the deadline of the whole exchange.
 */
export abstract class Attempt {
  abortFn: ((error?: Error) => void) | undefined = undefined
  /**
   * undici called `onConnect`: the request was handed to a connection and is written right after it (unless aborted
   * here). From then on any byte of it may have been written: `onRequestSent` comes only once all of it was, and a
   * streamed body's last byte can be on the wire before it.
   */
  connected = false
  interrupted = false
  complete = false
  /** The deadline timer, cleared when the exchange ends. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  timedOut = false

  /** `reportsConnect`: the dispatcher calls `onConnect` before it writes any byte (undici's own). */
  constructor(readonly reportsConnect: boolean) {}

  /** A failure of the exchange (undici's `onError`, or the deadline). */
  protected abstract report(error: unknown): void

  onConnect(abort: (error?: Error) => void): void {
    this.connected = true
    this.abortFn = abort
    if (this.interrupted) abort(new InterruptedError())
    else if (this.timedOut) abort(new TimeoutError())
  }

  onError(error: Error): void {
    this.abortFn = undefined
    this.clearTimer()
    if (this.interrupted) return
    this.report(error)
  }

  /** Whether any byte of the request may have been written, whatever the error's code. */
  private sent(code: string | undefined): boolean {
    if (this.connected) return true
    if (this.reportsConnect) return false
    // A dispatcher that may not forward `onConnect` (interceptors): only a proof that nothing was written counts.
    return code === undefined || !KaleyraTransport.neverSentCodes.has(code)
  }

  failureOf(error: unknown): TransportFailure {
    const code = codeOf(error)
    return new TransportFailure(error, this.sent(code), code)
  }

  /**
   * Starts the deadline of the whole exchange (until the last byte of the response body). When it passes, the
   * request is aborted and fails with `ETIMEDOUT`, `requestSent` saying whether it had been written. `millis` is
   * clamped to what Node's timers take (1 ms to about 24.8 days).
   */
  startTimer(deadline: number): void {
    const millis = Math.max(1, Math.min(deadline, 2 ** 31 - 1))
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.complete || this.interrupted) return
      this.timedOut = true
      const error = new TimeoutError(millis)
      const abort = this.abortFn
      this.abortFn = undefined
      this.report(error)
      // Abort after reporting: undici then calls onError, which finds nothing left to report.
      if (abort !== undefined) abort(error)
    }, millis)
  }

  clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  /** Stops the exchange: the request is aborted if it is still going, and nothing more is reported. */
  interrupt(): void {
    this.clearTimer()
    if (this.interrupted || this.complete) return
    this.interrupted = true
    const abort = this.abortFn
    this.abortFn = undefined
    if (abort !== undefined) abort(new InterruptedError())
  }
}

/** @internal */
export const NO_HEADERS: ReadonlyArray<Buffer> = []

/** @internal */
export const decoder = new TextDecoder()

/** @internal */
export const latin1 = (value: Buffer | string): string => typeof value === "string" ? value : value.toString("latin1")

/** @internal */
export const join = (previous: string | undefined, value: string): string =>
  previous === undefined ? value : `${previous}, ${value}`

/**
 * Whether `dispatcher` calls `onConnect` before it writes any byte: Agent, Pool, Client, BalancedPool and ProxyAgent
 * share this `dispatch` and pass the handler through untouched; a composed dispatcher (interceptors) wraps it.
 *
 * @internal
 */
export const isPlainUndici = (dispatcher: Dispatcher): boolean => dispatcher.dispatch === Agent.prototype.dispatch
