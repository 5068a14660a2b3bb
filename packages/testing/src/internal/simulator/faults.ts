/**
 * Faults of the network, of a gateway in front of Kaleyra or of its answer: which faults exist, how one is drawn for a
 * request (the `injectNext` queue first, then the rates, from a seeded generator so that runs repeat), and what each
 * does to the answer, before the request is processed (`answerOf`) or after (`applyFault`).
 *
 * @internal
 */
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"
import { gatewayPage, isSuccess, JSON_HEADERS, jsonResponse, responseOf, RESPONSES } from "./responses.js"

type Fault = KaleyraSimulator.Fault
type DrawnFault = KaleyraSimulator.DrawnFault
type FaultOptions = KaleyraSimulator.FaultOptions
type FaultRates = KaleyraSimulator.FaultRates
type ResolvedFaultOptions = KaleyraSimulator.ResolvedFaultOptions
type SimResponse = KaleyraSimulator.SimResponse
type TransportFault = KaleyraSimulator.TransportFault

export const faults: ReadonlyArray<Fault> = [
  "latency",
  "reset-before-body",
  "reset-after-body",
  "silent",
  "drip",
  "html-502",
  "html-503",
  "html-504",
  "truncated-json",
  "malformed-json",
  "empty-body",
  "unexpected-2xx",
  "429",
  "429-retry-after",
  "WA500",
  "huge-response"
]

export const faultAccepts = (fault: Fault): boolean => {
  switch (fault) {
    case "latency":
    case "reset-after-body":
    case "drip":
    case "truncated-json":
    case "empty-body":
    case "unexpected-2xx":
    case "huge-response":
      return true
    default:
      return false
  }
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

const noAnswer = (fault: TransportFault): SimResponse =>
  Object.freeze({ status: 0, headers: NO_HEADERS, body: "", fault })

const RESET_BEFORE_BODY = noAnswer({ kind: "reset", phase: "before-body" })
const RESET_AFTER_BODY = noAnswer({ kind: "reset", phase: "after-body" })
const SILENT = noAnswer({ kind: "silent" })
const HTML_504 = gatewayPage(504, "Gateway Time-out")
const MALFORMED_JSON = jsonResponse(500, `{"code":`)
const UNEXPECTED_2XX = jsonResponse(200, `{"status":"ok"}`)

const HUGE_PREFIX = `{"code":"WA202","message":"Request Accepted","padding":"`
const HUGE_SUFFIX = `"}`

export const hugeBodyChunks = function*(bytes: number, chunkSize: number = 64 * 1024): Generator<Uint8Array> {
  const total = Math.max(HUGE_PREFIX.length + HUGE_SUFFIX.length, Math.floor(bytes))
  const size = Math.max(1, Math.floor(chunkSize))
  const filler = new Uint8Array(size).fill(0x78) // "x"
  const head = new TextEncoder().encode(HUGE_PREFIX)
  const tail = new TextEncoder().encode(HUGE_SUFFIX)
  let offset = 0
  while (offset < total) {
    const length = Math.min(size, total - offset)
    if (length === size && offset >= head.length && offset + length <= total - tail.length) {
      // Only filler: the same bytes every time (never written to).
      yield filler
      offset += length
      continue
    }
    const chunk = new Uint8Array(length).fill(0x78)
    // The prefix and suffix overlap the first and last chunks (a chunk may hold both).
    for (let i = 0; i < head.length; i++) {
      const at = i - offset
      if (at >= 0 && at < length) chunk[at] = head[i]
    }
    for (let i = 0; i < tail.length; i++) {
      const at = total - tail.length + i - offset
      if (at >= 0 && at < length) chunk[at] = tail[i]
    }
    yield chunk
    offset += length
  }
}

export const DEFAULT_FAULT_OPTIONS: ResolvedFaultOptions = Object.freeze({
  latencyMillis: 100,
  dripMillis: 1_000,
  retryAfter: 1,
  hugeBytes: 10 * 1024 * 1024 + 1024,
  hugeChunked: false
})

const nonNegative = (value: number | undefined, fallback: number): number =>
  value === undefined || !Number.isFinite(value) || value < 0 ? fallback : value

export const resolveFaultOptions = (
  options: FaultOptions | undefined,
  base: ResolvedFaultOptions
): ResolvedFaultOptions =>
  options === undefined ? base : {
    latencyMillis: nonNegative(options.latencyMillis, base.latencyMillis),
    dripMillis: nonNegative(options.dripMillis, base.dripMillis),
    retryAfter: Math.floor(nonNegative(options.retryAfter, base.retryAfter)),
    hugeBytes: Math.floor(nonNegative(options.hugeBytes, base.hugeBytes)),
    hugeChunked: options.hugeChunked ?? base.hugeChunked
  }

/** mulberry32: a small, fast, seeded generator of numbers in [0, 1). */
const makeGenerator = (seed: number) => {
  let state = seed >>> 0
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** The cumulative thresholds of the rates, in the order of `faults` (capped at 1); empty when every rate is 0. */
const thresholdsOf = (rates: FaultRates | undefined): Array<readonly [Fault, number]> => {
  const out: Array<readonly [Fault, number]> = []
  if (rates === undefined) return out
  let sum = 0
  for (const fault of faults) {
    const rate = rates[fault]
    if (rate === undefined || !Number.isFinite(rate) || rate <= 0) continue
    sum = Math.min(1, sum + rate)
    out.push([fault, sum])
  }
  return out
}

const zeroCounts = (): Record<Fault, number> => {
  const out = {} as Record<Fault, number>
  for (const fault of faults) out[fault] = 0
  return out
}

/** The faults of one simulator: the `injectNext` queue, the rates and their generator, the counts. */
export class FaultInjector {
  private readonly queue: Array<{ readonly drawn: DrawnFault; remaining: number }> = []
  private thresholds: Array<readonly [DrawnFault, number]>
  private random: () => number
  counts: Record<Fault, number> = zeroCounts()

  constructor(
    private readonly defaults: ResolvedFaultOptions,
    private readonly initialRates: FaultRates | undefined,
    private readonly seed: number
  ) {
    this.thresholds = this.ratesOf(initialRates)
    this.random = makeGenerator(seed)
  }

  private ratesOf(rates: FaultRates | undefined): Array<readonly [DrawnFault, number]> {
    return thresholdsOf(rates).map(([fault, threshold]) => [{ ...this.defaults, fault }, threshold] as const)
  }

  /** The fault of the next request, `undefined` for none: one number drawn per request when rates are set. */
  readonly draw = (): DrawnFault | undefined => {
    const head = this.queue[0]
    if (head !== undefined) {
      head.remaining--
      if (head.remaining <= 0) this.queue.shift()
      return head.drawn
    }
    const thresholds = this.thresholds
    if (thresholds.length === 0) return undefined
    const draw = this.random()
    for (let i = 0; i < thresholds.length; i++) {
      if (draw < thresholds[i][1]) return thresholds[i][0]
    }
    return undefined
  }

  inject(fault: Fault, options: KaleyraSimulator.InjectNextOptions | undefined): void {
    const times = Math.floor(options?.times ?? 1)
    if (times > 0) {
      this.queue.push({ drawn: { ...resolveFaultOptions(options, this.defaults), fault }, remaining: times })
    }
  }

  setRates(rates: FaultRates): void {
    this.thresholds = this.ratesOf(rates)
  }

  /** Back to the options' rates, the generator re-seeded. */
  reset(): void {
    this.queue.length = 0
    this.thresholds = this.ratesOf(this.initialRates)
    this.random = makeGenerator(this.seed)
    this.counts = zeroCounts()
  }
}

/** The answer of a fault that happens in front of Kaleyra (nothing is processed), `undefined` for the others. */
export const answerOf = (drawn: DrawnFault): SimResponse | undefined => {
  switch (drawn.fault) {
    case "reset-before-body":
      return RESET_BEFORE_BODY
    case "silent":
      return SILENT
    case "html-502":
      return RESPONSES["502-html"]
    case "html-503":
      return RESPONSES["503-html"]
    case "html-504":
      return HTML_504
    case "malformed-json":
      return MALFORMED_JSON
    case "429":
      return RESPONSES["429"]
    case "429-retry-after":
      return responseOf("429", drawn.retryAfter)
    case "WA500":
      return RESPONSES.WA500
    default:
      return undefined
  }
}

/** A fault applied to the answer of a processed request. */
export const applyFault = (drawn: DrawnFault, response: SimResponse): SimResponse => {
  switch (drawn.fault) {
    case "reset-after-body":
      return RESET_AFTER_BODY
    case "latency":
      return { ...response, fault: { kind: "latency", millis: drawn.latencyMillis } }
    case "drip":
      return { ...response, fault: { kind: "drip", millis: drawn.dripMillis } }
    case "truncated-json":
      return isSuccess(response)
        ? { status: 202, headers: JSON_HEADERS, body: response.body.slice(0, Math.floor(response.body.length / 2)) }
        : response
    case "empty-body":
      return isSuccess(response) ? RESPONSES["empty-body"] : response
    case "unexpected-2xx":
      return isSuccess(response) ? UNEXPECTED_2XX : response
    case "huge-response":
      return isSuccess(response)
        ? {
          status: 200,
          headers: JSON_HEADERS,
          body: "",
          fault: { kind: "huge", bytes: drawn.hugeBytes, chunked: drawn.hugeChunked }
        }
        : response
    default:
      return response
  }
}
