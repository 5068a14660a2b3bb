import * as KaleyraSimulator from "@effect-kaleyra/testing/KaleyraSimulator"
import * as KaleyraTest from "@effect-kaleyra/testing/KaleyraTest"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import Database from "libsql"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Campaign from "../src/Campaign.js"
import * as CampaignSqlite from "../src/CampaignSqlite.js"
import { acceptedRefs, rows, tempDir } from "./helpers.js"

/**
 * The commits in a SQLite WAL file: its frames of the current generation (the salts of the header) that end a
 * transaction (a non-zero database size).
 */
const walCommits = (file: string): number => {
  const wal = fs.readFileSync(`${file}-wal`)
  if (wal.length < 32) return 0
  const pageSize = wal.readUInt32BE(8)
  const salt1 = wal.readUInt32BE(16)
  const salt2 = wal.readUInt32BE(20)
  let commits = 0
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break
    if (wal.readUInt32BE(at + 4) !== 0) commits++
  }
  return commits
}

describe("Campaign on SQLite: commits", () => {
  // Before: an intent was a commit of its own (two per row); and at concurrency 1 or 2 this run never ended.
  it.scoped(
    "each row's intent is committed with the outcome of the row before it, and before its request",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const file = path.join(dir, "ledger.db")
        // another connection (opened at the first request) sees only what is committed
        let reader: InstanceType<typeof Database> | undefined
        yield* Effect.addFinalizer(() => Effect.sync(() => reader?.close()))
        let requests = 0
        let early = 0
        const client = KaleyraTest.layer({
          callbacks: false,
          transformClient: HttpClient.tapRequest(() =>
            Effect.sync(() => {
              requests++
              reader ??= new Database(file, { readonly: true })
              const { intents } = reader.prepare("SELECT SUM(attempts) AS intents FROM kaleyra_campaign_row").get() as {
                readonly intents: number
              }
              if (intents < requests) early++
            })
          )
        })
        const n = 40
        yield* Effect.gen(function*() {
          yield* Campaign.create({ name: "c", rows: rows(n) })
          const before = walCommits(file)
          const summary = yield* Campaign.run({ name: "c", concurrency: 1, rateLimit: false })
          const commits = walCommits(file) - before
          assert.strictEqual(summary.sent, n)
          assert.strictEqual(early, 0, "no request before its intent is committed")
          const refs = yield* acceptedRefs(yield* KaleyraSimulator.KaleyraSimulator)
          assert.isTrue(refs.size === n && [...refs.values()].every((count) => count === 1))
          // one commit per row (its intent with the previous row's outcome), plus the claims and the run's own few;
          // an intent committed on its own would make it two per row
          // (and at least that many: a WAL restarted during the run would make the count meaningless, not small)
          assert.isAtLeast(commits, n, `${commits} commits for ${n} rows`)
          assert.isAtMost(commits, n + n / 8 + 8, `${commits} commits for ${n} rows`)
        }).pipe(Effect.provide(Layer.merge(CampaignSqlite.layer({ filename: file }), client)))
      }),
    60_000
  )
})
