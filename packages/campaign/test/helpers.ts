import type * as KaleyraSimulator from "@effect-kaleyra/testing/KaleyraSimulator"
import { PgClient } from "@effect/sql-pg"
import { inject } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type * as Campaign from "../src/Campaign.js"
import * as CampaignPg from "../src/CampaignPg.js"
import * as CampaignSqlite from "../src/CampaignSqlite.js"

export { maxInWindow } from "./window.js"

/** A temporary directory, removed with the scope. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "campaign-test-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** The ledger on a new SQLite file. */
export const sqliteLedger = Layer.unwrapScoped(
  Effect.map(tempDir, (dir) => CampaignSqlite.layer({ filename: path.join(dir, "ledger.db") }))
)

let databases = 0

/** A new database on the tests' PostgreSQL server: its URL. */
export const freshDatabase = Effect.gen(function*() {
  const name = `t_${process.pid}_${Date.now().toString(36)}_${databases++}`
  const admin = inject("databaseUrl")
  yield* Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    yield* sql.unsafe(`CREATE DATABASE ${name}`)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(admin), maxConnections: 1 })), Effect.orDie)
  return admin.replace(/\/[^/]*$/, `/${name}`)
})

/** The ledger on a new PostgreSQL database. */
export const pgLedger = Layer.unwrapEffect(
  Effect.map(freshDatabase, (url) => CampaignPg.layer({ url: Redacted.make(url) }))
)

export const ledgers = [
  { name: "SQLite", layer: sqliteLedger },
  { name: "PostgreSQL", layer: pgLedger }
] as const

/** `n` image messages to distinct recipients. */
export const rows = (n: number, from = 0): Array<Campaign.RowInput> =>
  Array.from({ length: n }, (_, i) => ({
    input: {
      to: `+9198${String(76_500_000 + from + i).padStart(8, "0")}`,
      type: "image" as const,
      image: { link: `https://example.com/${from + i}.png` },
      extraInfo: { ref: `user-${from + i}` }
    }
  }))

/** How many times the simulator accepted each campaign ref (`extra_info.ref2`). */
export const acceptedRefs = (simulator: KaleyraSimulator.Simulator) =>
  Effect.map(simulator.sent, (sent) => {
    const counts = new Map<string, number>()
    for (const message of sent) {
      const ref = message.extraInfo?.ref2
      if (ref !== undefined) counts.set(ref, (counts.get(ref) ?? 0) + 1)
    }
    return counts
  })

export const sendRequests = (simulator: KaleyraSimulator.Simulator) =>
  Effect.map(simulator.requests, (requests) => requests.filter((r) => r.path.endsWith("/messages")).length)
