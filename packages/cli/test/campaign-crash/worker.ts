/**
 * A campaign worker for the crash test, run in a child process: it runs one campaign and, when told to, kills itself
 * with SIGKILL at a hook point (after a claim, after the intent commit, after a response, after the outcome commit),
 * the nth time that point is reached. Prints the run's summary as JSON when it ends normally.
 */
import * as Campaign from "@effect-kaleyra/campaign/Campaign"
import * as CampaignPg from "@effect-kaleyra/campaign/CampaignPg"
import * as CampaignSqlite from "@effect-kaleyra/campaign/CampaignSqlite"
import { KaleyraNode } from "@effect-kaleyra/node"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

export interface WorkerConfig {
  readonly ledger: { readonly sqlite: string } | { readonly pg: string }
  readonly baseUrl: string
  readonly sid: string
  readonly apiKey: string
  readonly senderNumber: string
  readonly campaign: string
  readonly workerId: string
  readonly concurrency: number
  readonly limit: number
  readonly kill?: {
    readonly point: "afterClaim" | "afterIntent" | "afterResponse" | "afterOutcome"
    readonly nth: number
  }
}

const config = JSON.parse(process.argv[2]) as WorkerConfig

let reached = 0
const at = (point: string) => () =>
  Effect.sync(() => {
    if (config.kill?.point === point && ++reached >= config.kill.nth) process.kill(process.pid, "SIGKILL")
  })

const ledger = "sqlite" in config.ledger
  ? CampaignSqlite.layer({ filename: config.ledger.sqlite })
  : CampaignPg.layer({ url: Redacted.make(config.ledger.pg) })

const client = KaleyraNode.layer({
  sid: config.sid,
  apiKey: Redacted.make(config.apiKey),
  senderNumber: config.senderNumber,
  baseUrl: config.baseUrl,
  timeout: "2 seconds",
  retryBaseDelay: "20 millis",
  maxRetryAfter: "1 second",
  // every HTTP attempt, as it leaves (after its rate-limit slot): "S <epoch ms>" (stdout is synchronous on a pipe, so
  // the lines written before a SIGKILL are all there)
  transformClient: HttpClient.tapRequest(() => Effect.sync(() => process.stdout.write(`S ${Date.now()}\n`)))
})

const program = Campaign.run({
  name: config.campaign,
  workerId: config.workerId,
  concurrency: config.concurrency,
  rateLimit: { limit: config.limit, interval: "1 second" },
  lease: "5 seconds",
  hooks: {
    afterClaim: at("afterClaim"),
    afterIntent: at("afterIntent"),
    afterResponse: at("afterResponse"),
    afterOutcome: at("afterOutcome")
  }
}).pipe(
  Effect.tap((summary) => Effect.sync(() => process.stdout.write(`R ${JSON.stringify(summary)}\n`))),
  Effect.provide(Layer.merge(ledger, client))
)

Effect.runPromiseExit(program).then((exit) => {
  if (exit._tag === "Failure") {
    process.stderr.write(String(exit.cause) + "\n")
    process.exitCode = 1
  }
})
