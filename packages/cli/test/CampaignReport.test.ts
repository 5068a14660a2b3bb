import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Stream } from "effect"
import { link, readdir, readFile, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { tempDir } from "../../node/test/utils.js"
import * as CampaignReport from "../src/CampaignReport.js"
import * as CsvCampaign from "../src/CsvCampaign.js"

const dir = tempDir("kaleyra-report-")

const row = {
  seq: 1,
  line: 2,
  to: "+919876543210",
  state: "Failed" as const,
  messageId: "=HYPERLINK(\"http://evil\")",
  ref: "kc0123456789-1",
  errorTag: "WhatsAppError",
  errorMessage: "@SUM(1+1)\u001b[31m red\u001b]0;title\u0007",
  mayHaveReached: false,
  delivery: undefined,
  deliveryAt: undefined,
  deliveryError: "-2+3",
  attempts: 1
}

describe("CampaignReport", () => {
  it("guardCell: a formula gets a leading quote, a phone number or plain text does not", () => {
    for (const cell of ["=1+1", "+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1", "+91 98765"]) {
      assert.strictEqual(CampaignReport.guardCell(cell), `'${cell}`, cell)
    }
    for (const cell of ["+919876543210", "wamid.HBg=", "Sent", "", "1-2"]) {
      assert.strictEqual(CampaignReport.guardCell(cell), cell, cell)
    }
  })

  it("formatReportRow: server text guarded, every column in order", () => {
    const fields = CsvCampaign.parse(CampaignReport.formatReportRow(row)).records[0].fields
    assert.deepStrictEqual(fields, [
      "2",
      "+919876543210",
      "Failed",
      "'=HYPERLINK(\"http://evil\")",
      "kc0123456789-1",
      "WhatsAppError",
      "'@SUM(1+1)\u001b[31m red\u001b]0;title\u0007",
      "no",
      "",
      "",
      "'-2+3",
      "1"
    ])
    assert.strictEqual(CampaignReport.reportHeader.split(",").length, CampaignReport.reportColumns.length)
  })

  it("terminalSafe: no escape sequence, no control character, no line break survives", () => {
    const text =
      "ok\u001b[2J\u001b[31mred\u001b]8;;http://x\u0007link\u001b]8;;\u0007\r\nforged\u0000\u009b1m\u202eevil"
    const safe = CampaignReport.terminalSafe(text)
    // eslint-disable-next-line no-control-regex
    assert.notMatch(safe, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/)
    assert.include(safe, "ok")
    assert.include(safe, "red")
    assert.include(safe, "link")
    assert.include(safe, "forged")
  })

  it.scoped("checkTarget: the input or the ledger by any path is refused, so is a file that is not a report", () =>
    Effect.gen(function*() {
      const d = yield* dir
      const input = join(d, "contacts.csv")
      const db = join(d, "ledger.db")
      yield* Effect.promise(() => writeFile(input, "to\n+919876543210\n"))
      yield* Effect.promise(() => writeFile(db, "SQLite format 3\u0000"))
      yield* Effect.promise(() => symlink(input, join(d, "sym.csv")))
      yield* Effect.promise(() => link(input, join(d, "hard.csv")))
      yield* Effect.promise(() => writeFile(join(d, "old.csv"), CampaignReport.reportHeader + "2,+91,Sent\n"))
      const protect = [{ path: input, what: "the input file" }, { path: db, what: "the ledger" }]
      const check = (target: string) => Effect.either(CampaignReport.checkTarget(target, protect))
      for (const target of [input, `${d}/./contacts.csv`, join(d, "sym.csv"), join(d, "hard.csv"), db]) {
        const result = yield* check(target)
        assert.isTrue(Either.isLeft(result), target)
      }
      const hard = yield* check(join(d, "hard.csv"))
      assert.isTrue(Either.isLeft(hard) && hard.left.message.includes("the input file"))
      assert.isTrue(Either.isRight(yield* check(join(d, "new.csv"))))
      assert.isTrue(Either.isRight(yield* check(join(d, "old.csv"))))
      // the symbolic link would be replaced, not its target, but it is refused all the same (it names the input)
      assert.strictEqual(yield* Effect.promise(() => readFile(input, "utf8")), "to\n+919876543210\n")
    }))

  it.scoped("writeAtomically: the whole file or the old one, and no temporary file left on a failure", () =>
    Effect.gen(function*() {
      const d = yield* dir
      const target = join(d, "report.csv")
      yield* Effect.promise(() => writeFile(target, "old\n"))
      const failing = Stream.concat(Stream.make("a\n", "b\n"), Stream.fail("boom"))
      const failed = yield* Effect.either(CampaignReport.writeAtomically(target, failing))
      assert.isTrue(Either.isLeft(failed))
      assert.strictEqual(yield* Effect.promise(() => readFile(target, "utf8")), "old\n")
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(d)), ["report.csv"])
      const count = yield* CampaignReport.writeAtomically(target, Stream.make("x\n", "y\n", "z\n"))
      assert.strictEqual(count, 3)
      assert.strictEqual(yield* Effect.promise(() => readFile(target, "utf8")), "x\ny\nz\n")
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(d)), ["report.csv"])
    }))
})
