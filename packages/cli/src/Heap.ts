/**
 * How the `kaleyra-wa` process lets its heap grow.
 *
 * Importing and sending a large CSV allocates a lot of short-lived memory (a row's record, message and validation are
 * garbage once the row is stored or sent). V8's default lets the old generation grow to several times its live size
 * before a full collection, so a file of a million rows took the process far over the memory a campaign needs
 * (figures in bench/README.md, part 4b). Growing by a bounded factor keeps it close to the live size, for a little
 * more collection work.
 *
 * @since 0.2.0
 */
import * as v8 from "node:v8"

/**
 * The old generation's growth between full collections, in percent of its live size after the last one (V8's
 * `--heap-growing-percent`; V8 chooses a factor of its own, usually much larger, when it is not set).
 *
 * @since 0.2.0
 * @category constants
 */
export const growingPercent: number = 30

/**
 * Bounds the heap's growth for the rest of the process (a V8 flag: it concerns the whole process, so it belongs to
 * an application's entry point, as `kaleyra-wa`'s, not to a library). A `--heap-growing-percent` given to node
 * (on its command line or in `NODE_OPTIONS`) wins.
 *
 * @since 0.2.0
 * @category process
 */
export const limitGrowth = (): void => {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)]
    .some((arg) => arg.startsWith("--heap-growing-percent") || arg.startsWith("--heap_growing_percent"))
  if (!given) v8.setFlagsFromString(`--heap-growing-percent=${growingPercent}`)
}
