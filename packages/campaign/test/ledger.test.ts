import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as Campaign from "../src/Campaign.js"
import * as CampaignPg from "../src/CampaignPg.js"
import * as CampaignSqlite from "../src/CampaignSqlite.js"
import { tempDir } from "./helpers.js"

const openFails = <A, E>(layer: Layer.Layer<A, E>) => Effect.flip(Effect.scoped(Layer.build(layer)))

describe("opening a ledger", () => {
  it.scoped("a file that is not a SQLite database: LedgerError, and the file is left as it was", () =>
    Effect.gen(function*() {
      const file = path.join(yield* tempDir, "contacts.csv")
      fs.writeFileSync(file, "to,link\n+919876543210,https://example.com/a.png\n".repeat(200))
      const before = fs.readFileSync(file)
      const error = yield* openFails(CampaignSqlite.layer({ filename: file }))
      assert.strictEqual(error._tag, "LedgerError")
      assert.match(error.message, /not a database/)
      assert.deepStrictEqual(fs.readFileSync(file), before)
    }))

  it.scoped("a ledger file in a folder that does not exist: LedgerError", () =>
    Effect.gen(function*() {
      const error = yield* openFails(CampaignSqlite.layer({ filename: path.join(yield* tempDir, "no", "ledger.db") }))
      assert.strictEqual(error._tag, "LedgerError")
    }))

  it.live("a database URL that refuses: LedgerError, without the password", () =>
    Effect.gen(function*() {
      // a port nobody listens on
      const port = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const server = net.createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo
            server.close(() => resolve(port))
          })
        })
      )
      const error = yield* openFails(
        CampaignPg.layer({ url: Redacted.make(`postgres://user:s3cret-pw@127.0.0.1:${port}/ledger`) })
      )
      assert.strictEqual(error._tag, "LedgerError")
      assert.notInclude(error.message, "s3cret-pw")
    }))

  it.scoped("the same SQLite file, opened again, holds the same campaigns", () =>
    Effect.gen(function*() {
      const filename = path.join(yield* tempDir, "ledger.db")
      const layer = CampaignSqlite.layer({ filename })
      yield* Campaign.create({
        name: "c",
        rows: [{ input: { to: "+919876543210", type: "image", image: { link: "https://example.com/a.png" } } }]
      }).pipe(Effect.provide(layer))
      const status = yield* Campaign.status("c").pipe(Effect.provide(layer))
      assert.deepStrictEqual([status.total, status.states.Pending, status.importComplete], [1, 1, true])
    }))
})
