/**
 * A part of the durable campaign benchmark (see `durable.ts`) in a process of its own, with its own server child:
 *
 *   durable.mjs sqlite|csv [--quick] [--count N]
 *   tsx durable-entry.ts pg [--quick] [--count N]     (PostgreSQL: the server comes from a TypeScript test setup)
 *
 * Prints the report, then its result as one JSON line.
 */
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { runCsv, runPg, runSqlite } from "./durable.js"
import { startServer } from "./serverProcess.js"
import { DURABLE_RESULT, settings } from "./settings.js"
import { benchDir } from "./util.js"

/** The campaign package's test setup: a real PostgreSQL server on 127.0.0.1 (TypeScript: this part runs on tsx). */
type StartPostgres = (project: { readonly provide: (key: string, value: string) => void }) => Promise<
  () => Promise<void>
>
const postgresSetup = pathToFileURL(join(benchDir, "..", "packages", "campaign", "test", "setup", "postgres.ts")).href

const part = process.argv[2]
const quick = process.argv.includes("--quick")
const countIndex = process.argv.indexOf("--count")
const countArg = countIndex === -1 ? undefined : Number(process.argv[countIndex + 1])
const sizes = settings(quick).durable

const server = await startServer(30 * 60_000)
try {
  if (part === "sqlite") {
    console.log(DURABLE_RESULT + JSON.stringify(await runSqlite(server, countArg ?? sizes.sqlite)))
  } else if (part === "csv") {
    console.log(DURABLE_RESULT + JSON.stringify(await runCsv(server, countArg ?? sizes.csv)))
  } else if (part === "pg") {
    let url = ""
    const { default: startPostgres } = (await import(postgresSetup)) as { readonly default: StartPostgres }
    const stop = await startPostgres({
      provide: (_key, value) => {
        url = value
      }
    })
    try {
      console.log(
        DURABLE_RESULT + JSON.stringify(await runPg(server, url, countArg ?? sizes.pg, server.secondSenderNumber))
      )
    } finally {
      await stop()
    }
  } else {
    console.error(`usage: durable sqlite|csv|pg [--quick] [--count N] (got ${part})`)
    process.exitCode = 2
  }
} finally {
  await server.close()
}
