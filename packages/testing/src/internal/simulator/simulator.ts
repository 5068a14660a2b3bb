/**
 * A simulator assembled from its parts: the state, the scripts, the faults and the conversations, the request
 * handler over them, and the control surface tests use (`failNext`, `injectNext`, `reset`, the views and counts).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"
import * as Conversations from "./conversations.js"
import { FaultInjector } from "./faults.js"
import { RequestHandler } from "./handler.js"
import { canonicalFailCode } from "./responses.js"
import { type CallbackScheduler, makeCallbackScheduler } from "./scheduler.js"
import { Scripts } from "./scripts.js"
import { toHttpApp } from "./server.js"
import { Account, Ledger, resolveOptions } from "./state.js"

type Simulator = KaleyraSimulator.Simulator
type SimulatorOptions = KaleyraSimulator.SimulatorOptions

const build = (options: SimulatorOptions, callbacks: CallbackScheduler | undefined): Simulator => {
  const resolved = resolveOptions(options)
  const account = new Account(resolved.balance, resolved.dailyLimit)
  const ledger = new Ledger(resolved.historyLimit, resolved.countRefs)
  const scripts = new Scripts()
  const faults = new FaultInjector(resolved.faults, options.faultRates, resolved.seed)
  const conversations = Conversations.makeState(options)
  const { handle } = new RequestHandler({
    options: resolved,
    account,
    ledger,
    scripts,
    faults,
    conversations,
    callbacks
  })

  return {
    handle,
    app: toHttpApp(handle),
    options: resolved,
    failNext: (code, failOptions) =>
      Effect.flatMap(
        canonicalFailCode(code),
        (canonical) => Effect.sync(() => scripts.failNext(canonical, failOptions))
      ),
    setScenario: (recipient, code) =>
      Effect.flatMap(
        canonicalFailCode(code),
        (canonical) => Effect.sync(() => scripts.setScenario(recipient, canonical))
      ),
    clearScenario: (recipient) => Effect.sync(() => scripts.clearScenario(recipient)),
    setBalance: (value) =>
      Effect.sync(() => {
        account.balance = value
      }),
    balance: Effect.sync(() => account.balance),
    sent: Effect.sync(() => ledger.sent()),
    uploads: Effect.sync(() => ledger.uploaded()),
    requests: Effect.sync(() => ledger.received()),
    reset: Effect.zipRight(
      Effect.sync(() => {
        account.reset()
        ledger.reset()
        scripts.reset()
        faults.reset()
        conversations.reset()
      }),
      callbacks?.clear ?? Effect.void
    ),
    conversations: Conversations.conversationsOf(conversations),
    callbacksDelivered: Effect.sync(() => callbacks?.delivered() ?? 0),
    callbackFailures: Effect.sync(() => callbacks?.failures() ?? 0),
    awaitCallbacks: callbacks?.await ?? Effect.void,
    injectNext: (fault, injectOptions) => Effect.sync(() => faults.inject(fault, injectOptions)),
    setFaultRates: (rates) => Effect.sync(() => faults.setRates(rates)),
    stats: Effect.sync((): KaleyraSimulator.SimulatorStats => ({
      requests: ledger.requests,
      accepted: ledger.accepted,
      uploads: ledger.uploads,
      faults: { ...faults.counts },
      duplicateRefs: ledger.duplicateRefs
    })),
    acceptedRefs: Effect.sync((): ReadonlyMap<string, number> => new Map(ledger.refCounts)),
    unsafeDrawFault: faults.draw
  }
}

export const unsafeMake = (options: SimulatorOptions): Simulator =>
  build(options, options.callbacks === undefined ? undefined : makeCallbackScheduler(options.callbacks))

export const make = (options: SimulatorOptions): Effect.Effect<Simulator> => Effect.sync(() => unsafeMake(options))

// The scope owns the scheduler: closing it cancels the pending callbacks and schedules no more.
export const makeScoped = (options: SimulatorOptions): Effect.Effect<Simulator, never, Scope.Scope> =>
  Effect.suspend(() => {
    if (options.callbacks === undefined) return make(options)
    const scheduler = makeCallbackScheduler(options.callbacks)
    return Effect.as(Effect.addFinalizer(() => scheduler.close), build(options, scheduler))
  })
