/**
 * The sizes of the benchmarks, full and quick.
 */
import type { CampaignOptions } from "./campaign.js"
import type { CpuOptions } from "./cpu.js"
import type { HttpOptions } from "./http.js"

export const usage = "usage: pnpm bench [--only http|cpu|campaign|durable] [--quick] [--json] [--profile] [--tsx] " +
  "[--wait-quiet SECONDS] [--contenders undici,library,fetch,transport] [--campaign-node-flag --FLAG ...]"

/** The prefix of the line the campaign process reports its result on. */
export const CAMPAIGN_RESULT = "@@bench-campaign-result "

/** The prefix of the line a durable campaign part reports its result on. */
export const DURABLE_RESULT = "@@bench-durable-result "

/** The prefix of the lines a contender process of (1) answers on (`ready`, then one result per run). */
export const CONTENDER_RESULT = "@@bench-contender "

export const settings = (quick: boolean) => ({
  http: (quick
    ? { concurrency: 64, rounds: 3, warmupMillis: 300, runMillis: 400 }
    : { concurrency: 64, rounds: 5, warmupMillis: 3_000, runMillis: 2_000 }) satisfies HttpOptions,
  cpu: (quick
    ? { warmup: 2_000, sends: 5_000, reps: 3, partIterations: 20_000 }
    : { warmup: 20_000, sends: 30_000, reps: 3, partIterations: 200_000 }) satisfies CpuOptions,
  campaign: (quick
    ? { count: 5_000, rate: 2_000, concurrency: 64, ordered: true, progressMillis: 0 }
    : {
      count: 100_000,
      rate: 2_000,
      concurrency: 64,
      ordered: true,
      progressMillis: 10_000
    }) satisfies CampaignOptions,
  /** (4) rows of the durable campaign's parts: SQLite vs in memory, the CSV, each PostgreSQL campaign (at 80/s). */
  durable: quick ? { sqlite: 5_000, csv: 20_000, pg: 240 } : { sqlite: 50_000, csv: 1_000_000, pg: 1_200 }
})
