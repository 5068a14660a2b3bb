import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, FastCheck, Stream } from "effect"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { tempDir } from "../../node/test/utils.js"
import * as CsvCampaign from "../src/CsvCampaign.js"
import * as CsvFile from "../src/CsvFile.js"

const dir = tempDir("kaleyra-csvfile-")

const LINK = "https://example.com/offer.png"

const file = (name: string, content: string | Uint8Array) =>
  Effect.gen(function*() {
    const path = join(yield* dir, name)
    yield* Effect.promise(() => writeFile(path, content))
    return path
  })

const scanOf = (path: string) =>
  CsvFile.scan(path, { type: "image", link: LINK }).pipe(Effect.either, Effect.provide(NodeFileSystem.layer))

describe("CsvCampaign.makeParser", () => {
  it.prop(
    "text pushed in any pieces gives what parse gives for the whole text",
    [
      FastCheck.array(
        FastCheck.oneof(
          FastCheck.constantFrom(",", "\"", "\"\"", "\r", "\n", "\r\n", "\uFEFF", "a", "é", " "),
          FastCheck.string({ maxLength: 3 })
        ),
        { maxLength: 60 }
      ),
      FastCheck.array(FastCheck.nat(), { maxLength: 8 })
    ],
    ([parts, cuts]) => {
      const text = parts.join("")
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
      const parser = CsvCampaign.makeParser()
      const items: Array<CsvCampaign.CsvRecord | CsvCampaign.CsvProblem> = []
      let from = 0
      for (const point of [...points, text.length]) {
        items.push(...parser.push(text.slice(from, point)))
        from = point
      }
      items.push(...parser.end())
      const whole = CsvCampaign.parse(text)
      assert.deepStrictEqual(items.filter((i) => !CsvCampaign.isProblem(i)), [...whole.records])
      assert.deepStrictEqual(items.filter(CsvCampaign.isProblem), whole.problems)
    }
  )
})

describe("CsvFile", () => {
  it.scoped("scan: counts, the first problems with their lines, the fingerprint of the bytes", () =>
    Effect.gen(function*() {
      const path = yield* file("a.csv", "\uFEFFto,caption,extra\n+919876543210,hi,x\nnot-a-number,,\n+14155550123,,\n")
      const scan = yield* scanOf(path)
      assert.isTrue(Either.isRight(scan))
      if (Either.isLeft(scan)) return
      assert.strictEqual(scan.right.rows, 2)
      assert.strictEqual(scan.right.problemCount, 1)
      assert.strictEqual(scan.right.problems[0].line, 3)
      assert.include(scan.right.problems[0].message, "to:")
      assert.deepStrictEqual(scan.right.ignoredColumns, ["extra"])
      assert.match(scan.right.fingerprint, /^[0-9a-f]{64}$/)
      const other = yield* scanOf(yield* file("b.csv", "\uFEFFto,caption,extra\n+919876543210,hi,x\n"))
      assert.isTrue(Either.isRight(other) && other.right.fingerprint !== scan.right.fingerprint)
    }))

  it.scoped("invalid UTF-8 is refused with its line, also past the first chunk; multi-byte characters cut by a chunk are not", () =>
    Effect.gen(function*() {
      // ~400 KB of rows with a 3-byte character, so that some fall across the 256 KiB chunk boundary
      const rows = Array.from({ length: 8000 }, (_, i) => `+4477009${String(i).padStart(5, "0")},caf\u00e9 \u20ac ${i}`)
      const good = "to,caption\n" + rows.join("\n") + "\n"
      const ok = yield* scanOf(yield* file("good.csv", good))
      assert.isTrue(Either.isRight(ok) && ok.right.rows === 8000 && ok.right.problemCount === 0)

      const bytes = new TextEncoder().encode(good)
      // a Latin-1 byte in the number of the row on line 7002 (well past the first chunk)
      const at = new TextEncoder().encode("to,caption\n" + rows.slice(0, 7000).join("\n") + "\n+44").length
      const bad = bytes.slice()
      bad[at] = 0xe9
      const refused = yield* scanOf(yield* file("bad.csv", bad))
      assert.isTrue(Either.isLeft(refused))
      if (Either.isRight(refused)) return
      assert.include(refused.left.message, "not UTF-8")
      assert.include(refused.left.message, "line 7002")

      // a sequence cut by the end of the file
      const cut = yield* scanOf(yield* file("cut.csv", concat(new TextEncoder().encode("to\n+919876543210\n"), [0xe2])))
      assert.isTrue(Either.isLeft(cut) && cut.left.message.includes("line 3"))
    }))

  it.scoped("a quote never closed is refused once the record is over the limit, not read to the end", () =>
    Effect.gen(function*() {
      const text = "to,caption\n+919876543210,\"open\n" + "x".repeat(CsvFile.maxRecordLength + 10) + "\n"
      const refused = yield* scanOf(yield* file("open.csv", text))
      assert.isTrue(Either.isLeft(refused) && refused.left.message.includes("line 2"))
    }))

  it.scoped("rows: the inputs with their lines, in file order", () =>
    Effect.gen(function*() {
      const path = yield* file("rows.csv", "to,ref\n+919876543210,a\n\n+14155550123,b\n")
      const rows = yield* CsvFile.rows(path, { type: "image", link: LINK }).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray),
        Effect.provide(NodeFileSystem.layer)
      )
      assert.deepStrictEqual(rows.map((r) => r.line), [2, 4])
      assert.deepStrictEqual(rows.map((r) => r.input.extraInfo?.ref), ["a", "b"])
    }))

  it("invalidUtf8Offset agrees with a fatal TextDecoder", () => {
    const decoder = new TextDecoder("utf-8", { fatal: true })
    FastCheck.assert(
      FastCheck.property(FastCheck.uint8Array({ maxLength: 12 }), (bytes) => {
        let valid = true
        try {
          decoder.decode(bytes)
        } catch {
          valid = false
        }
        const offset = CsvFile.invalidUtf8Offset(bytes)
        assert.strictEqual(offset === -1, valid)
        if (offset >= 0) decoder.decode(bytes.subarray(0, offset))
      }),
      { numRuns: 2000 }
    )
  })
})

const concat = (a: Uint8Array, b: ReadonlyArray<number>) => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
