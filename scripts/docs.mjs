// API documentation: `pnpm docgen` runs @effect/docgen in each package (a page per module, in
// packages/<name>/docs/modules, every example type-checked), then writes each package's entry page (index.ts.md).
//
// Why the entry page is ours: docgen renders a named re-export (`export { type SendMediaResult } from ...`) as
// `export declare const SendMediaResult: <the type of a value of that name>`, which is `any` for an interface or a
// type alias, and with the description of the re-export's own comment (none). So the entry page is built from
// index.ts's exports, each with the declaration's section (description, signature, examples) copied from the page of
// the module that declares it, and a link to that page. It fails on a name it cannot find, and on an `any` signature.
import { execFile } from "node:child_process"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { delimiter, join, resolve } from "node:path"
import ts from "typescript"

const root = resolve(import.meta.dirname, "..")
const only = process.argv.slice(2)
const packages = readdirSync(join(root, "packages"))
  .filter((name) => existsSync(join(root, "packages", name, "docgen.json")))
  .filter((name) => only.length === 0 || only.includes(name))

/** A generated module page: its overview and its sections (`## name` up to the next `#` or `##` heading). */
const parsePage = (markdown) => {
  const lines = markdown.split("\n")
  const sections = new Map()
  let overview = []
  let current = undefined
  for (const line of lines) {
    if (/^#{1,2} /.test(line)) {
      current = undefined
      const heading = /^## (.+)$/.exec(line)?.[1]
      if (heading === undefined) continue
      if (heading.endsWith(" overview")) {
        current = overview
      } else {
        current = [line]
        sections.set(heading.replace(/ \((class|interface|type alias|namespace)\)$/, ""), { heading, lines: current })
      }
      continue
    }
    if (current !== undefined) current.push(line)
  }
  overview = overview.join("\n").split("\n---\n")[0].replace(/\nAdded in v[\d.]+\s*$/, "").trim()
  return { overview, sections }
}

/** GitHub's anchor for a heading. */
const anchor = (heading) => heading.toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-")

/** The text of the JSDoc comment before a node, without its tags. */
const leadingDoc = (text, node) => {
  const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? []
  const last = ranges.filter((range) => text.startsWith("/**", range.pos)).at(-1)
  if (last === undefined) return ""
  return text.slice(last.pos + 3, last.end - 2)
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, ""))
    .join("\n")
    .split(/\n@/)[0]
    .trim()
}

const entryPage = (pkg) => {
  const dir = join(root, "packages", pkg)
  const name = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name
  const indexPath = join(dir, "src", "index.ts")
  const text = readFileSync(indexPath, "utf8")
  const source = ts.createSourceFile(indexPath, text, ts.ScriptTarget.Latest, true)
  const pages = new Map()
  const page = (module) => {
    if (!pages.has(module)) {
      pages.set(module, parsePage(readFileSync(join(dir, "docs", "modules", `${module}.ts.md`), "utf8")))
    }
    return pages.get(module)
  }
  const out = [
    "---",
    "title: index.ts",
    "nav_order: 1",
    "parent: Modules",
    "---",
    "",
    `## ${name}`,
    "",
    `Everything \`import { ... } from "${name}"\` gives, by the module that declares it (each module is also its own`,
    `entry point: \`${name}/<Module>\`).`,
    ""
  ]
  const problems = []
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement) || statement.moduleSpecifier === undefined) continue
    const module = statement.moduleSpecifier.text.replace(/^\.\//, "").replace(/\.js$/, "")
    const link = `./${module}.ts.md`
    const { overview, sections } = page(module)
    const doc = leadingDoc(text, statement)
    const clause = statement.exportClause
    if (clause === undefined || ts.isNamespaceExport(clause)) {
      const title = clause === undefined ? `Everything of ${module}` : `${clause.name.text} (namespace)`
      out.push(`## ${title}`, "", doc, "", overview, "", `See [${module}](${link}).`, "")
      continue
    }
    out.push(`## From ${module}`, "", doc, "")
    for (const element of clause.elements) {
      const exported = element.name.text
      const declared = (element.propertyName ?? element.name).text
      const section = sections.get(declared)
      if (section === undefined) {
        problems.push(`${pkg}: ${exported} (from ${module}) has no section in ${module}.ts.md`)
        continue
      }
      const [, ...body] = section.lines
      const title = section.heading.replace(declared, exported)
      out.push(
        `### ${title}`,
        "",
        ...body.map((line) => line.startsWith("### ") ? `#${line}` : line).join("\n").trim().split("\n"),
        "",
        `Declared in [${module}](${link}#${anchor(section.heading)}).`,
        ""
      )
    }
  }
  const markdown = out.join("\n").replace(/\n{3,}/g, "\n\n")
  for (const match of markdown.matchAll(/^export declare const (\w+): any$/gm)) {
    problems.push(`${pkg}: ${match[1]} is rendered as any`)
  }
  if (problems.length > 0) throw new Error(`API documentation:\n${problems.join("\n")}`)
  writeFileSync(join(dir, "docs", "modules", "index.ts.md"), markdown)
}

// docgen, and the tsc it runs on the examples, from this repository's node_modules, whoever runs this script.
const env = { ...process.env, PATH: `${join(root, "node_modules", ".bin")}${delimiter}${process.env.PATH}` }

/** docgen in one package, its output printed whole when it ends (the packages' outputs are not mixed). */
const docgen = (pkg) =>
  new Promise((resolveRun, rejectRun) => {
    execFile("docgen", [], { cwd: join(root, "packages", pkg), env, maxBuffer: 64 * 1024 * 1024 }, (error, out, err) => {
      process.stdout.write(out)
      process.stderr.write(err)
      if (error) return rejectRun(new Error(`docgen failed in packages/${pkg}`, { cause: error }))
      try {
        entryPage(pkg)
      } catch (problem) {
        return rejectRun(problem)
      }
      console.log(`docs: packages/${pkg}/docs/modules/index.ts.md`)
      resolveRun()
    })
  })

// As many packages at a time as there are cores: each docgen is one thread, and in `pnpm test` the API docs were
// the last phase to end, one core working while the other waited.
// core first: its docgen takes longest (its examples are type-checked and run).
const queue = [...packages].sort((a, b) => Number(b === "core") - Number(a === "core"))
const failures = []
await Promise.all(Array.from({ length: Math.min(queue.length, availableParallelism()) }, async () => {
  for (let pkg = queue.shift(); pkg !== undefined; pkg = queue.shift()) {
    await docgen(pkg).catch((error) => failures.push(error))
  }
}))
if (failures.length > 0) throw new AggregateError(failures, failures.map((error) => error.message).join("; "))
