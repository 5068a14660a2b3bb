/**
 * The benchmark process (see `main.ts`, which starts it bundled on bare `node`, or with `tsx` given `--tsx`).
 */
import { main } from "./run.js"

process.exitCode = await main(process.argv.slice(2))
