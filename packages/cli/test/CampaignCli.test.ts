import * as Campaign from "@effect-kaleyra/campaign/Campaign"
import * as CampaignSqlite from "@effect-kaleyra/campaign/CampaignSqlite"
import * as Ledger from "@effect-kaleyra/campaign/Ledger"
import { statusCallback } from "@effect-kaleyra/testing/KaleyraSimulator"
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer } from "effect"
import { existsSync } from "node:fs"
import { link, readFile, stat, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { inject } from "vitest"
import * as CampaignReport from "../src/CampaignReport.js"
import {
  byRecipient,
  captionOf,
  credentials,
  LINK,
  readRecords,
  runCli,
  serve,
  spawnCli,
  tempDir,
  write
} from "./cliUtils.js"

const numbers = (count: number, prefix = "+4477009") =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, "0")}`)

const statusOf = (db: ReadonlyArray<string>) =>
  Effect.map(runCli(["campaign", "status", ...db, "--json"]), (result) => {
    assert.strictEqual(result.code, 0, result.stderr)
    return JSON.parse(result.stdout) as {
      readonly total: number
      readonly states: Record<string, number>
      readonly delivery: Record<string, number>
      readonly paused: { readonly reason: string; readonly message: string } | null
    }
  })

const header = CampaignReport.reportColumns as ReadonlyArray<string>

/** A served simulator, a temporary folder, a CSV of `count` numbers, and `campaign run` on a ledger there. */
const fixture = (count: number, prefix?: string) =>
  Effect.gen(function*() {
    const { simulator, url } = yield* serve()
    const dir = yield* tempDir
    const csv = join(dir, "c.csv")
    const db = join(dir, "l.db")
    const to = numbers(count, prefix)
    yield* write(csv, ["to", ...to].join("\n"))
    const args = ["campaign", "run", "--csv", csv, "--type", "image", "--link", LINK, "--db", db, "--base-url", url]
    return { simulator, url, dir, csv, db, to, args }
  })

/**
 * At most one send per row, and the ledger accounts for every accepted message: no recipient twice; nothing left
 * Pending or Sending; every Sent row accepted, every accepted message a Sent or Ambiguous row (a row stopped between
 * its intent and its outcome may or may not have been sent), and at most `maxAmbiguous` Ambiguous rows.
 */
const assertAccounted = (
  db: string,
  sent: ReadonlyArray<{ readonly recipients: ReadonlyArray<string> }>,
  maxAmbiguous: number
) =>
  Effect.gen(function*() {
    const final = yield* statusOf(["--db", db])
    const ambiguous = final.states.Ambiguous ?? 0
    assert.strictEqual(new Set(sent.map((m) => m.recipients[0])).size, sent.length)
    assert.strictEqual(final.states.Pending, 0)
    assert.strictEqual(final.states.Sending ?? 0, 0)
    assert.isAtMost(final.states.Sent, sent.length)
    assert.isAtLeast(final.states.Sent + ambiguous, sent.length)
    assert.isAtMost(ambiguous, maxAmbiguous)
  })

describe("kaleyra-wa campaign (SQLite)", () => {
  it.scopedLive("--simulator: imports, sends every row, the delivery funnel in status, the report in order", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const csv = join(dir, "contacts.csv")
      const db = join(dir, "ledger.db")
      const out = join(dir, "report.csv")
      const to = numbers(30)
      yield* write(csv, ["to,ref", ...to.map((n, i) => `${n},customer-${i}`)].join("\n"))
      const run = yield* runCli([
        "campaign",
        "run",
        "--csv",
        csv,
        "--type",
        "image",
        "--link",
        LINK,
        "--db",
        db,
        "--rate",
        "0",
        "--simulator"
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.include(run.stderr, "Imported 30 rows")
      assert.include(run.stderr, "30/30 attempted: 30 sent")
      assert.include(run.stdout, "30 rows: 30 sent, 0 failed, 0 ambiguous, 0 pending")

      // the simulator's callbacks went through a callback receiver into this ledger
      const status = yield* statusOf(["--db", db])
      assert.strictEqual(status.states.Sent, 30)
      assert.strictEqual(status.delivery.sent + status.delivery.delivered + status.delivery.read, 30)
      assert.strictEqual(status.delivery.read, 30, JSON.stringify(status) + run.stderr)
      const human = yield* runCli(["campaign", "status", "--db", db])
      assert.include(human.stdout, "Sent 30")

      const report = yield* runCli(["campaign", "report", "--db", db, "--out", out])
      assert.strictEqual(report.code, 0, report.stderr)
      const records = yield* readRecords(out)
      assert.deepStrictEqual(records[0], header)
      assert.strictEqual(records.length, 31)
      records.slice(1).forEach((record, i) => {
        const row = Object.fromEntries(header.map((column, c) => [column, record[c]]))
        assert.strictEqual(row.line, String(i + 2))
        assert.strictEqual(row.to, to[i])
        assert.strictEqual(row.state, "Sent")
        assert.match(row.message_id, /\S/)
        assert.match(row.ref, /-/)
        assert.strictEqual(row.may_have_reached, "yes")
      })

      // the same command again (here without --simulator nor credentials): nothing left to send, no client needed
      const again = yield* runCli(["campaign", "run", "--csv", csv, "--type", "image", "--link", LINK, "--db", db])
      assert.strictEqual(again.code, 0, again.stderr)
      assert.include(again.stderr, "Resuming campaign contacts")
      assert.include(again.stderr, "no row to send")
      assert.include(again.stdout, "30 rows: 30 sent")
    }))

  it.scopedLive("1 000 rows with per-row overrides and scripted failures: the report row by row, exit 1", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const dir = yield* tempDir
      const csv = join(dir, "contacts.csv")
      const out = join(dir, "out.csv")
      const db = join(dir, "l.db")
      const expected: Array<{ to: string; failure: string | undefined; type: string; caption: string | undefined }> = []
      const lines = ["to,type,link,id,caption,filename,name"]
      for (let i = 0; i < 1000; i++) {
        const to = `+9198${String(i).padStart(8, "0")}`
        let failure: string | undefined
        if (i % 101 === 7) {
          yield* simulator.setScenario(to, "WA400")
          failure = "IncorrectPayload"
        }
        switch (i % 4) {
          case 0:
            lines.push(`${to},image,https://example.com/${i}.png,,"Hi ${i}, ""friend""",,n${i}`)
            expected.push({ to, failure, type: "image", caption: `Hi ${i}, "friend"` })
            break
          case 1:
            lines.push(`${to},document,,${1_000_000 + i},,f${i}.pdf,n${i}`)
            expected.push({ to, failure, type: "document", caption: "Default caption" })
            break
          case 2:
            lines.push(`${to},audio,,,,,n${i}`)
            expected.push({ to, failure, type: "audio", caption: undefined })
            break
          default:
            lines.push(`${to},,,,,,n${i}`)
            expected.push({ to, failure, type: "image", caption: "Default caption" })
        }
      }
      yield* write(csv, lines.join("\n") + "\n")
      const result = yield* runCli([
        "campaign",
        "run",
        "--csv",
        csv,
        "--type",
        "image",
        "--link",
        LINK,
        "--caption",
        "Default caption",
        "--concurrency",
        "32",
        "--rate",
        "0",
        "--db",
        db,
        "--out",
        out,
        "--base-url",
        url
      ], credentials)
      const failures = expected.filter((e) => e.failure !== undefined).length
      assert.strictEqual(result.code, 1, result.stderr)
      assert.include(result.stderr, "ignoring the column name")
      assert.include(result.stdout, `1000 rows: ${1000 - failures} sent, ${failures} failed`)
      const sent = byRecipient(yield* simulator.sent)
      assert.strictEqual(sent.size, 1000 - failures)
      const records = yield* readRecords(out)
      assert.strictEqual(records.length, 1001)
      for (let i = 0; i < 1000; i++) {
        const e = expected[i]
        const [line, to, state, messageId, , errorTag, errorMessage] = records[i + 1]
        assert.strictEqual(line, String(i + 2))
        assert.strictEqual(to, e.to)
        if (e.failure === undefined) {
          const message = sent.get(e.to)!
          assert.deepStrictEqual([state, messageId, errorTag], ["Sent", message.messageId, ""])
          assert.strictEqual(message.type, e.type)
          assert.strictEqual(captionOf(message), e.caption)
        } else {
          assert.deepStrictEqual([state, messageId, errorTag], ["Failed", "", e.failure])
          assert.notStrictEqual(errorMessage, "")
        }
      }
    }))

  it.scopedLive("an account-wide error pauses: rows stay Pending; the same command after the fix sends only those", () =>
    Effect.gen(function*() {
      const { args, db, simulator } = yield* fixture(40)
      yield* simulator.setBalance(12)
      const first = yield* runCli([...args, "--rate", "0", "--concurrency", "4"], credentials)
      assert.strictEqual(first.code, 1, first.stderr)
      assert.include(first.stderr, "Paused: LowBalance")
      const paused = yield* statusOf(["--db", db])
      assert.strictEqual(paused.paused?.reason, "LowBalance")
      assert.strictEqual(paused.states.Sent, 12)
      assert.strictEqual(paused.states.Pending, 28)
      const sentBefore = (yield* simulator.sent).length
      assert.strictEqual(sentBefore, 12)

      yield* simulator.setBalance(1000)
      const second = yield* runCli([...args, "--rate", "0"], credentials)
      assert.strictEqual(second.code, 0, second.stderr)
      assert.include(second.stderr, "28/28 attempted")
      const sent = yield* simulator.sent
      // every recipient exactly once, across both runs
      assert.strictEqual(sent.length, 40)
      assert.strictEqual(byRecipient(sent).size, 40)
    }))

  it.scopedLive("interrupted: the sends in flight are recorded, the rest stay Pending, resume sends each row once", () =>
    Effect.gen(function*() {
      const { args, db, simulator } = yield* fixture(40, "+1415555")
      const fiber = yield* Effect.fork(runCli([...args, "--rate", "20"], credentials))
      while ((yield* simulator.sent).length < 5) yield* Effect.sleep("10 millis")
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      const status = yield* statusOf(["--db", db])
      const sentBefore = (yield* simulator.sent).length
      assert.strictEqual(status.states.Sent, sentBefore)
      assert.strictEqual(status.states.Pending, 40 - sentBefore)
      assert.strictEqual(status.states.Sending ?? 0, 0)

      const again = yield* runCli([...args, "--rate", "0"], credentials)
      assert.strictEqual(again.code, 0, again.stderr)
      const sent = yield* simulator.sent
      assert.strictEqual(sent.length, 40)
      assert.strictEqual(byRecipient(sent).size, 40)
    }))

  it.scopedLive("bad input: exit 2 and no request (rows, files, a CSV changed, ref2, --out the input or the ledger)", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const dir = yield* tempDir
      const db = join(dir, "l.db")
      const run = (csv: string, ...more: ReadonlyArray<string>) =>
        runCli(
          ["campaign", "run", "--csv", csv, "--type", "image", "--link", LINK, "--db", db, "--base-url", url, ...more],
          credentials
        )
      const bad = join(dir, "bad.csv")
      yield* write(
        bad,
        ["to,type,link", `+919876543210,image,${LINK}`, `12345,image,${LINK}`, "", "+919876543213,image,ftp://x/a.png"]
          .join("\r\n")
      )
      const badRows = yield* run(bad)
      assert.strictEqual(badRows.code, 2)
      assert.deepStrictEqual(Array.from(badRows.stderr.matchAll(/line (\d+):/g), (m) => Number(m[1])), [3, 5])
      assert.include(badRows.stderr, "2 rows cannot be sent, so nothing was sent")

      for (
        const [name, text, message] of [
          ["no-to.csv", "phone\n+919876543210\n", "has no to column"],
          ["empty.csv", "", "the file is empty"],
          ["header-only.csv", "to,caption\n", "no data rows"],
          ["open.csv", "to,\"caption\n+919876543210,hi\n", "never closed"],
          ["ref2.csv", "to,ref2\n+919876543210,x\n", "ref2 column is reserved"]
        ] as const
      ) {
        const csv = join(dir, name)
        yield* write(csv, text)
        const result = yield* run(csv)
        assert.strictEqual(result.code, 2, name)
        assert.include(result.stderr, message, name)
      }
      const latin1 = join(dir, "latin1.csv")
      yield* Effect.promise(() => writeFile(latin1, Buffer.from("to,caption\n+919876543210,caf\xe9\n", "latin1")))
      const notUtf8 = yield* run(latin1)
      assert.strictEqual(notUtf8.code, 2)
      assert.include(notUtf8.stderr, "not UTF-8 text: line 2")
      assert.strictEqual((yield* run(join(dir, "missing.csv"))).code, 2)

      // --out that is the input (by any path) or the ledger
      const csv = join(dir, "ok.csv")
      yield* write(csv, "to\n+919876543210\n")
      yield* Effect.promise(() => symlink(csv, join(dir, "sym.csv")))
      yield* Effect.promise(() => link(csv, join(dir, "hard.csv")))
      for (
        const out of [csv, `${dir}/../${dir.split("/").pop()}/ok.csv`, join(dir, "sym.csv"), join(dir, "hard.csv"), db]
      ) {
        const result = yield* run(csv, "--out", out)
        assert.strictEqual(result.code, 2, out)
        assert.include(result.stderr, "--out", out)
      }
      assert.strictEqual(yield* Effect.promise(() => readFile(csv, "utf8")), "to\n+919876543210\n")
      assert.strictEqual((yield* run(csv, "--ref2", "x")).code, 2)
      assert.strictEqual((yield* simulator.requests).length, 0)

      // a different CSV for the same ledger and campaign
      const first = join(dir, "first.csv")
      yield* write(first, "to\n+919876543210\n")
      const ok = yield* run(first, "--campaign", "spring")
      assert.strictEqual(ok.code, 0, ok.stderr)
      const requests = (yield* simulator.requests).length
      yield* write(first, "to\n+919876543210\n+919876543211\n")
      const changed = yield* run(first, "--campaign", "spring")
      assert.strictEqual(changed.code, 2, changed.stderr)
      assert.include(changed.stderr, "imported from another file")
      assert.strictEqual((yield* simulator.requests).length, requests)
    }))

  it.scopedLive("a ledger that cannot be opened: a corrupt file, a locked one, a database URL that refuses: exit 2", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      const dir = yield* tempDir
      const csv = join(dir, "c.csv")
      yield* write(csv, "to\n+919876543210\n")
      const corrupt = join(dir, "corrupt.db")
      yield* Effect.promise(() => writeFile(corrupt, Buffer.alloc(8192, 0x5a)))
      const base = ["campaign", "run", "--csv", csv, "--type", "image", "--link", LINK, "--base-url", url]
      const onCorrupt = yield* runCli([...base, "--db", corrupt], credentials)
      assert.strictEqual(onCorrupt.code, 2, onCorrupt.stderr)
      assert.include(onCorrupt.stderr, "cannot open the ledger")
      const status = yield* runCli(["campaign", "status", "--db", corrupt])
      assert.strictEqual(status.code, 2)

      // a ledger whose write lock another connection holds (the busy timeout runs out)
      const lockedDb = join(dir, "locked.db")
      const { sql } = Context.get(yield* Layer.build(CampaignSqlite.layer({ filename: lockedDb })), Ledger.Ledger)
      const holding = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(sql.withTransaction(
        sql`CREATE TABLE lock_holder (x INTEGER)`.pipe(
          Effect.zipRight(Deferred.succeed(holding, undefined)),
          Effect.zipRight(Deferred.await(release))
        )
      ))
      yield* Deferred.await(holding)
      const onLocked = yield* runCli([...base, "--db", lockedDb], credentials)
      yield* Deferred.succeed(release, undefined)
      const held = yield* Fiber.await(holder)
      assert.strictEqual(onLocked.code, 2, onLocked.stderr + String(held))
      assert.include(onLocked.stderr, "locked")

      const refused = yield* runCli(
        [...base, "--database-url", "postgres://nobody:secret-pw@127.0.0.1:1/none"],
        credentials
      )
      assert.strictEqual(refused.code, 2, refused.stderr)
      assert.include(refused.stderr, "cannot open the ledger")
      assert.notInclude(refused.stderr + refused.stdout, "secret-pw")
      assert.strictEqual((yield* simulator.requests).length, 0)
      assert.isFalse(existsSync(join(dir, "c.results.csv")))
    }))
})

describe("kaleyra-wa campaign (processes)", () => {
  it.scopedLive(
    "Ctrl-C: exit 130, the rows in flight recorded; a second Ctrl-C exits at once; no row sent twice",
    () =>
      Effect.gen(function*() {
        const { args, db, simulator } = yield* fixture(200)
        const first = yield* spawnCli([...args, "--rate", "20"], credentials)
        while ((yield* simulator.sent).length < 5) yield* Effect.sleep("20 millis")
        first.child.kill("SIGINT")
        const stopped = yield* first.done
        assert.strictEqual(stopped.code, 130, stopped.stderr)
        assert.include(stopped.stderr, "stay Pending (never sent): the same command again sends them")
        const afterFirst = (yield* simulator.sent).length
        const status = yield* statusOf(["--db", db])
        assert.strictEqual(status.states.Sent, afterFirst)
        assert.strictEqual(status.states.Pending, 200 - afterFirst)

        const second = yield* spawnCli([...args, "--rate", "20"], credentials)
        while ((yield* simulator.sent).length < afterFirst + 5) yield* Effect.sleep("20 millis")
        second.child.kill("SIGINT")
        yield* Effect.sleep("5 millis")
        second.child.kill("SIGINT")
        const killed = yield* second.done
        assert.strictEqual(killed.code, 130, killed.stderr)

        const third = yield* runCli([...args, "--rate", "0"], credentials)
        // the second run (concurrency 16) was killed at once: at most 16 rows between intent and outcome
        yield* assertAccounted(db, yield* simulator.sent, 16)
        assert.include([0, 1], third.code)
      }),
    { timeout: 120_000 }
  )
})

describe("kaleyra-wa callbacks", () => {
  it.scopedLive(
    "records the statuses Kaleyra posts into the ledger; a wrong secret records nothing; Ctrl-C exits 130",
    () =>
      Effect.gen(function*() {
        const { args, db, simulator } = yield* fixture(3)
        const run = yield* runCli([...args, "--rate", "0"], credentials)
        assert.strictEqual(run.code, 0, run.stderr)
        const receiver = yield* spawnCli(["callbacks", "--db", db, "--port", "0"], {
          KALEYRA_CALLBACK_SECRET: "s3cret"
        })
        while (!/at (http\S+)/.test(receiver.captured.stderr)) {
          if (receiver.child.exitCode !== null) assert.fail(receiver.captured.stderr)
          yield* Effect.sleep("50 millis")
        }
        const url = /at (http\S+)/.exec(receiver.captured.stderr)![1]
        const sent = yield* simulator.sent
        const post = (body: unknown, secret: string) =>
          Effect.promise(() =>
            fetch(url, {
              method: "POST",
              headers: { "content-type": "application/json", "x-kaleyra-secret": secret },
              body: JSON.stringify(body)
            }).then((response) => response.status)
          )
        assert.strictEqual(yield* post(statusCallback(sent[0], "read"), "wrong"), 401)
        assert.strictEqual((yield* statusOf(["--db", db])).delivery.read, 0)
        assert.strictEqual(yield* post(statusCallback(sent[0], "read"), "s3cret"), 200)
        assert.strictEqual(yield* post(statusCallback(sent[1], "delivered"), "s3cret"), 200)
        const status = yield* statusOf(["--db", db])
        assert.strictEqual(status.delivery.read, 1)
        assert.strictEqual(status.delivery.delivered, 1)
        receiver.child.kill("SIGINT")
        const stopped = yield* receiver.done
        assert.strictEqual(stopped.code, 130, stopped.stderr)
        assert.include(stopped.stderr, "Recorded 2 statuses")
      }),
    { timeout: 60_000 }
  )
})

describe("kaleyra-wa campaign report (the 24-hour window)", () => {
  it.scopedLive(
    "counts the rows that failed with 131047 and says to send them as a template",
    () =>
      Effect.gen(function*() {
        const { args, db, dir, simulator } = yield* fixture(3)
        const run = yield* runCli([...args, "--rate", "0"], credentials)
        assert.strictEqual(run.code, 0, run.stderr)
        const sent = yield* simulator.sent
        const outsideWindow = [{ code: 131047, title: "Re-engagement message" }]
        yield* Effect.forEach(
          [
            statusCallback(sent[0], "failed", { errors: outsideWindow }),
            statusCallback(sent[1], "failed", { errors: outsideWindow })
          ],
          (body) => Campaign.recordCallback(body)
        ).pipe(Effect.provide(CampaignSqlite.layer({ filename: db })))
        const report = yield* runCli(["campaign", "report", "--db", db, "--out", join(dir, "report.csv")])
        assert.strictEqual(report.code, 0, report.stderr)
        assert.include(report.stderr, "2 rows failed with 131047")
        assert.include(report.stderr, "send these as a template")
      }),
    { timeout: 60_000 }
  )
})

describe("kaleyra-wa campaign (a full disk)", () => {
  it.scopedLive(
    "a write error stops the campaign (exit 1) and loses no row: a rerun accounts for every send",
    () =>
      Effect.gen(function*() {
        const { args, db, simulator } = yield* fixture(1500, "+4477011")
        // import, then pause at once (no balance): every row Pending
        yield* simulator.setBalance(0)
        const imported = yield* runCli([...args, "--rate", "0"], credentials)
        assert.strictEqual(imported.code, 1, imported.stderr)
        yield* simulator.setBalance(1_000_000)
        // the ledger's files may grow by about 64 KiB more: the process gets EFBIG past that (RLIMIT_FSIZE)
        const sizes = yield* Effect.promise(() =>
          Promise.all([db, `${db}-wal`].map((f) => stat(f).then((s) => s.size, () => 0)))
        )
        const blocks = Math.ceil((Math.max(...sizes) + 64 * 1024) / 512)
        const limited = yield* spawnCli([...args, "--rate", "0"], credentials, { shellPrefix: `ulimit -f ${blocks};` })
        const stopped = yield* limited.done
        assert.strictEqual(stopped.code, 1, stopped.stderr)
        assert.include(stopped.stderr, "the campaign stopped: the ledger failed")
        const acceptedWhenStopped = (yield* simulator.sent).length
        assert.isAbove(acceptedWhenStopped, 0)
        assert.isBelow(acceptedWhenStopped, 1500)

        const rerun = yield* runCli([...args, "--rate", "0"], credentials)
        yield* assertAccounted(db, yield* simulator.sent, 16)
        assert.include([0, 1], rerun.code)
      }),
    { timeout: 120_000 }
  )
})

declare module "vitest" {
  export interface ProvidedContext {
    // from campaign's test setup (a PostgreSQL server on 127.0.0.1 for the run)
    databaseUrl: string
  }
}

const databaseUrl = inject("databaseUrl")

describe("kaleyra-wa campaign (PostgreSQL)", () => {
  it.scopedLive("--database-url: run pauses on LowBalance; campaign worker after the fix sends only the rest", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* serve()
      yield* simulator.setBalance(10)
      const dir = yield* tempDir
      const csv = join(dir, "pg.csv")
      const name = `pg-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`
      const to = numbers(30, "+4477010")
      yield* write(csv, ["to", ...to].join("\n"))
      const ledger = ["--database-url", databaseUrl, "--campaign", name]
      const first = yield* runCli(
        [
          "campaign",
          "run",
          "--csv",
          csv,
          "--type",
          "image",
          "--link",
          LINK,
          ...ledger,
          "--rate",
          "0",
          "--base-url",
          url
        ],
        credentials
      )
      assert.strictEqual(first.code, 1, first.stderr)
      assert.include(first.stderr, "Paused: LowBalance")
      yield* simulator.setBalance(1000)
      const worker = yield* runCli(["campaign", "worker", ...ledger, "--rate", "0", "--base-url", url], credentials)
      assert.strictEqual(worker.code, 0, worker.stderr)
      const status = yield* statusOf(ledger)
      assert.strictEqual(status.states.Sent, 30)
      const sent = yield* simulator.sent
      assert.strictEqual(sent.length, 30)
      assert.strictEqual(byRecipient(sent).size, 30)
    }))
})
