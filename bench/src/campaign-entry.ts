/**
 * The campaign's own process: a fresh heap that loads only what a campaign needs (the library, its server child),
 * so that the peak RSS measured is the campaign's. Prints the report, then its result as one JSON line.
 *
 *   campaign.mjs [--quick] [--count N] [--rate N] [--concurrency N] [--unordered] [--progress-ms N]
 *
 * (every flag but `--quick` is for experiments: `pnpm bench` passes only `--quick`)
 */
import { runCampaign } from "./campaign.js"
import { startServer } from "./serverProcess.js"
import { CAMPAIGN_RESULT, settings } from "./settings.js"

const numberArg = (name: string): number | undefined => {
  const index = process.argv.indexOf(name)
  const value = index === -1 ? undefined : Number(process.argv[index + 1])
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined
}

const defaults = settings(process.argv.includes("--quick")).campaign
const options = {
  ...defaults,
  count: numberArg("--count") ?? defaults.count,
  rate: numberArg("--rate") ?? defaults.rate,
  concurrency: numberArg("--concurrency") ?? defaults.concurrency,
  ordered: !process.argv.includes("--unordered"),
  progressMillis: numberArg("--progress-ms") ?? defaults.progressMillis
}
const server = await startServer(options.count / options.rate * 1000 * 2 + 60_000)
try {
  const result = await runCampaign(server, options)
  console.log(CAMPAIGN_RESULT + JSON.stringify(result))
} finally {
  await server.close()
}
