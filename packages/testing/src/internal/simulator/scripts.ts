/**
 * Scripted failures: the `failNext` queue and the per-recipient scenarios. They answer after the route, the
 * credentials, the account and the sender number were checked, before the payload is.
 *
 * @internal
 */
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"
import { normalizeNumber, recipientsOf } from "./oracle.js"

type FailCode = KaleyraSimulator.FailCode

/** A queued `failNext`. */
export interface Scripted {
  readonly code: FailCode
  readonly retryAfter: number | undefined
  remaining: number
}

export class Scripts {
  private readonly queue: Array<Scripted> = []
  private readonly scenarios = new Map<string, FailCode>()

  failNext(code: FailCode, options: KaleyraSimulator.FailNextOptions | undefined): void {
    const times = Math.floor(options?.times ?? 1)
    if (times > 0) this.queue.push({ code, retryAfter: options?.retryAfter, remaining: times })
  }

  setScenario(recipient: string, code: FailCode): void {
    const normalized = normalizeNumber(recipient)
    if (normalized !== undefined) this.scenarios.set(normalized, code)
  }

  clearScenario(recipient: string): void {
    const normalized = normalizeNumber(recipient)
    if (normalized !== undefined) this.scenarios.delete(normalized)
  }

  /** Takes one request's turn in the `failNext` queue. */
  next(): Scripted | undefined {
    const head = this.queue[0]
    if (head === undefined) return undefined
    head.remaining--
    if (head.remaining <= 0) this.queue.shift()
    return head
  }

  /** The scenario of the first recipient of a (parsed) body that has one, whether or not the body is valid. */
  scenarioOf(body: unknown): FailCode | undefined {
    if (this.scenarios.size === 0) return undefined
    for (const recipient of recipientsOf(body)) {
      const code = this.scenarios.get(recipient)
      if (code !== undefined) return code
    }
    return undefined
  }

  reset(): void {
    this.queue.length = 0
    this.scenarios.clear()
  }
}
