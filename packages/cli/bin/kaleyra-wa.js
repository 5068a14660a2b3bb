#!/usr/bin/env node
// The `kaleyra-wa` executable's launcher. It is committed (not built) so that the bin exists as soon as the package
// is installed: a workspace install links bins before anything is built. The program is the compiled
// dist/bin/kaleyra-wa.js (src/bin/kaleyra-wa.ts).
import { existsSync } from "node:fs"

const program = new URL("../dist/bin/kaleyra-wa.js", import.meta.url)
if (existsSync(program)) {
  await import(program.href)
} else {
  process.stderr.write(
    "kaleyra-wa: this copy of @effect-kaleyra/cli is not built (no dist/). In its repository, run `pnpm build` first,"
      + " or `pnpm --silent kaleyra-wa ...` to run it from the sources.\n"
  )
  process.exitCode = 1
}
