/**
 * The crash test of issue 17: workers (child processes) are killed with SIGKILL at every point of a send (after a
 * claim, after the intent commit, after the request is written, after Kaleyra processed it, after the response,
 * after the outcome commit) and at seeded random moments, while the simulator injects faults (WA500, 429, resets
 * before and after the body). SQLite with one worker; PostgreSQL with two workers, one of them killed. After every
 * run the ledger and the simulator must agree: no ref accepted twice, no row left Sending, every accepted row Sent
 * or Ambiguous (and Sent once the status callbacks came), no row Sent that Kaleyra did not accept, at most
 * `concurrency` Ambiguous rows per kill, and no 1-second window over the sender's limit.
 */
import * as Campaign from "@effect-kaleyra/campaign/Campaign"
import * as CampaignPg from "@effect-kaleyra/campaign/CampaignPg"
import * as CampaignSqlite from "@effect-kaleyra/campaign/CampaignSqlite"
import type * as Ledger from "@effect-kaleyra/campaign/Ledger"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import { freshDatabase, rows, tempDir } from "../../campaign/test/helpers.js"
import { describePlan, type KillPlan, maxInWindow, runWorker, seeded, serve } from "./campaign-crash/harness.js"

const SID = "HXAP16XXXXXX97IN"
const API_KEY = "crash-test-key"
const SENDER = "919999999999"
const LIMIT = 250
const CONCURRENCY = 16

interface Scenario {
  readonly name: string
  readonly dialect: "sqlite" | "pg"
  readonly rows: number
  /** The kill plan of each worker started before the last one (PostgreSQL: the first of two workers). */
  readonly kills: ReadonlyArray<KillPlan>
  readonly seed: number
}

const totals = {
  runs: 0,
  workers: 0,
  kills: 0,
  interrupted: 0,
  ambiguous: 0,
  resolvedByRef: 0,
  ambiguousLeft: 0,
  duplicates: 0,
  accepted: 0
}

const runScenario = (scenario: Scenario) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const ledgerSpec = scenario.dialect === "sqlite"
      ? { sqlite: path.join(dir, "ledger.db") }
      : { pg: yield* freshDatabase }
    const ledgerLayer = "sqlite" in ledgerSpec
      ? CampaignSqlite.layer({ filename: ledgerSpec.sqlite })
      : CampaignPg.layer({ url: Redacted.make(ledgerSpec.pg) })
    const ledger = yield* Layer.build(ledgerLayer)
    const inLedger = <A, E>(effect: Effect.Effect<A, E, Ledger.Ledger>) => Effect.provide(effect, ledger)

    const served = yield* serve({
      sid: SID,
      apiKey: API_KEY,
      senderNumbers: [SENDER],
      seed: scenario.seed,
      historyLimit: 100_000,
      faultRates: { "WA500": 0.04, "429": 0.02, "reset-before-body": 0.03, "reset-after-body": 0.03 },
      // the status callbacks go into the ledger as they come, as the callback receiver would write them
      callbacks: {
        url: "memory://ledger",
        delays: { sent: 20, delivered: 40, read: 60 },
        deliver: (_url, body) => inLedger(Campaign.recordCallback(body))
      }
    })
    yield* inLedger(Campaign.create({ name: "crash", rows: rows(scenario.rows) }))

    const config = {
      ledger: ledgerSpec,
      baseUrl: served.url,
      sid: SID,
      apiKey: API_KEY,
      senderNumber: SENDER,
      campaign: "crash",
      concurrency: CONCURRENCY,
      limit: LIMIT
    }
    let kills = 0
    let workers = 0
    const sends: Array<number> = []
    const plans: Array<string> = []
    const record = (exit: { readonly killed: boolean; readonly sends: ReadonlyArray<number> }) => {
      workers++
      if (exit.killed) kills++
      sends.push(...exit.sends)
    }
    for (const plan of scenario.kills) {
      if (scenario.dialect === "sqlite") {
        const exit = yield* runWorker(served, { ...config, workerId: `w${workers}` }, plan)
        record(exit)
        plans.push(`${describePlan(plan)}${exit.killed ? " (killed)" : " (not reached)"}`)
      } else {
        // two workers on the campaign; the first is killed, the other goes on and finishes its rows
        const [a, b] = yield* Effect.all([
          runWorker(served, { ...config, workerId: `a${workers}` }, plan),
          runWorker(served, { ...config, workerId: `b${workers}` }, undefined)
        ], { concurrency: 2 })
        record(a)
        record(b)
        assert.strictEqual(b.code, 0, b.stderr)
        plans.push(`${describePlan(plan)}${a.killed ? " (killed)" : " (not reached)"}`)
      }
    }
    // a last worker, never killed, resumes whatever is left
    const last = yield* runWorker(served, { ...config, workerId: "last" }, undefined)
    record(last)
    assert.strictEqual(last.code, 0, last.stderr)

    const reportOf = inLedger(Effect.map(Stream.runCollect(Campaign.report("crash")), Chunk.toReadonlyArray))
    const accepted = new Map<string, Array<string>>()
    for (const message of yield* served.simulator.sent) {
      const ref = message.extraInfo?.ref2
      if (ref !== undefined) accepted.set(ref, [...accepted.get(ref) ?? [], message.messageId])
    }
    const duplicates = [...accepted.values()].filter((ids) => ids.length > 1).length
    const before = yield* reportOf

    // every ref accepted at most once
    assert.strictEqual(duplicates, 0, "a ref accepted twice")
    // no row left in Sending (nor claimed), nothing left Pending
    assert.deepStrictEqual(before.filter((r) => r.state === "Sending" || r.state === "Pending").map((r) => r.line), [])
    for (const row of before) {
      const ids = accepted.get(row.ref)
      if (ids !== undefined) {
        // every accepted row is Sent (with the simulator's message id) or Ambiguous
        assert.include(["Sent", "Ambiguous"], row.state, `accepted row ${row.line}`)
        if (row.state === "Sent") assert.strictEqual(row.messageId, ids[0])
      } else {
        // no row Sent that Kaleyra did not accept
        assert.notStrictEqual(row.state, "Sent", `row ${row.line} Sent but never accepted`)
      }
    }
    // Ambiguous because of a kill: at most `concurrency` per kill
    const interrupted = before.filter((r) => r.errorTag === "Interrupted").length
    assert.isAtMost(interrupted, CONCURRENCY * kills)
    const ambiguous = before.filter((r) => r.state === "Ambiguous").length

    // after the status callbacks, every accepted row is Sent
    yield* served.simulator.awaitCallbacks
    assert.strictEqual(yield* served.simulator.callbackFailures, 0)
    const after = yield* reportOf
    for (const row of after) {
      if (accepted.has(row.ref)) assert.strictEqual(row.state, "Sent", `accepted row ${row.line} after callbacks`)
    }
    // the sender's limit held in every 1-second window, across workers and restarts
    const busiest = maxInWindow(sends, 1000)
    assert.isAtMost(busiest, LIMIT)

    // rows whose send ended without an answer (a kill, or a reset after the body) that a status callback proved
    const resolvedByRef = after.filter((r) => r.state === "Sent" && r.errorTag !== undefined).length
    const ambiguousLeft = after.filter((r) => r.state === "Ambiguous").length
    totals.runs++
    totals.resolvedByRef += resolvedByRef
    totals.ambiguousLeft += ambiguousLeft
    totals.workers += workers
    totals.kills += kills
    totals.interrupted += interrupted
    totals.ambiguous += ambiguous
    totals.duplicates += duplicates
    totals.accepted += accepted.size
    // the figures the issue asks for, per run (printed on purpose: they are quoted)
    // eslint-disable-next-line no-console
    console.log(
      `crash ${scenario.name}: kills ${kills} [${plans.join(", ")}], workers ${workers}, rows ${scenario.rows}, ` +
        `accepted ${accepted.size}, Sending at a kill ${interrupted}, Ambiguous after the runs ${ambiguous}, ` +
        `resolved to Sent by a callback's ref ${resolvedByRef}, Ambiguous at the end ${ambiguousLeft} (never ` +
        `accepted), failed ${after.filter((r) => r.state === "Failed").length}, duplicates ${duplicates}, ` +
        `busiest 1 s window ${busiest}/${LIMIT}`
    )
  }).pipe(Effect.scoped)

const random = seeded(17)
const randomKill = (): KillPlan => ({ kind: "random", millis: Math.floor(random() * 700) })

const sqliteScenarios: ReadonlyArray<Scenario> = ([
  { name: "after a claim", kills: [{ kind: "hook", point: "afterClaim", nth: 2 }] },
  { name: "after the intent commit", kills: [{ kind: "hook", point: "afterIntent", nth: 4 }] },
  { name: "after the request is written", kills: [{ kind: "request", phase: "written", nth: 40 }] },
  { name: "after Kaleyra processed the request", kills: [{ kind: "request", phase: "processed", nth: 60 }] },
  { name: "after the response", kills: [{ kind: "hook", point: "afterResponse", nth: 50 }] },
  { name: "after the outcome commit", kills: [{ kind: "hook", point: "afterOutcome", nth: 12 }] },
  { name: "random 1", kills: [randomKill()] },
  { name: "random 2", kills: [randomKill(), randomKill()] },
  { name: "random 3", kills: [randomKill()] },
  { name: "random 4", kills: [randomKill(), randomKill()] }
] satisfies ReadonlyArray<Omit<Scenario, "dialect" | "rows" | "seed">>).map((s, i) => ({
  ...s,
  dialect: "sqlite" as const,
  rows: 160,
  seed: 100 + i
}))

const pgScenarios: ReadonlyArray<Scenario> = ([
  { name: "two workers, one killed after the intent commit", kills: [{ kind: "hook", point: "afterIntent", nth: 5 }] },
  { name: "two workers, one killed after the response", kills: [{ kind: "hook", point: "afterResponse", nth: 40 }] },
  { name: "two workers, one killed at random", kills: [randomKill()] },
  { name: "two workers, one killed at random twice", kills: [randomKill(), randomKill()] }
] satisfies ReadonlyArray<Omit<Scenario, "dialect" | "rows" | "seed">>).map((s, i) => ({
  ...s,
  dialect: "pg" as const,
  rows: 240,
  seed: 200 + i
}))

// One scenario at a time: the busiest-window check reads the workers' own clocks, and the machine is shared.
describe.sequential("crash test", () => {
  for (const scenario of [...sqliteScenarios, ...pgScenarios]) {
    it.live(
      `${scenario.dialect === "sqlite" ? "SQLite, one worker" : "PostgreSQL"}: ${scenario.name}`,
      () => runScenario(scenario),
      120_000
    )
  }
  it("totals", () => {
    // eslint-disable-next-line no-console
    console.log(
      `crash totals: runs ${totals.runs}, workers ${totals.workers}, kills ${totals.kills}, accepted ${totals.accepted}, ` +
        `Sending at a kill ${totals.interrupted}, Ambiguous after the runs ${totals.ambiguous}, resolved to Sent by a ` +
        `callback's ref ${totals.resolvedByRef}, Ambiguous at the end ${totals.ambiguousLeft}, duplicates ` +
        `${totals.duplicates}`
    )
    assert.strictEqual(totals.duplicates, 0)
  })
})
