import { readFileSync } from "node:fs"
import type * as KaleyraSimulator from "../src/KaleyraSimulator.js"

/**
 * The failure responses of the specification (`seed/send-media-messages.txt`), copied by hand into a fixture that
 * the core package's tests share: the simulator must answer exactly these (and not its own constants).
 */
export const seed: Readonly<Record<SeedCode, SeedFailure>> = JSON.parse(
  readFileSync(new URL("../../core/test/fixtures/seed-failures.json", import.meta.url), "utf8")
).failures

/** The simulator's failure codes that the seed specifies (not its own `WAV2101` and `429`). */
export type SeedCode = Exclude<KaleyraSimulator.FailCode, "WAV2101" | "429">

export interface SeedFailure {
  readonly status: number
  readonly body: {
    readonly code: string
    readonly message: string
    readonly data: unknown
    readonly error: Readonly<Record<string, string>>
  }
  readonly tag: string
}

export const seedCodes = Object.keys(seed) as ReadonlyArray<SeedCode>
