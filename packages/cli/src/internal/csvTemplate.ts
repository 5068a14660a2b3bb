/**
 * The template columns of a campaign file: a row of type `template` names its template (`template`, `language`),
 * its media header (`header`: image, video or document, from the row's `link` or `id` and a document's `filename`)
 * and its body's parameters in order (`body_1`, `body_2`, ...).
 *
 * @internal
 */
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"

/** The header names of the positional body parameters (`body_1` to `body_99`). */
export const BODY_COLUMN = /^body_([1-9][0-9]?)$/

/** A row's cells, read by column name (trimmed or not; `undefined` when empty or absent). */
export type Cell = (column: string, trim: boolean) => string | undefined

/** What the command's flags give a template row (a row's own link or id wins). */
export interface TemplateDefaults {
  readonly link?: string | undefined
  readonly id?: string | undefined
  readonly filename?: string | undefined
}

/**
 * The input of a template row, or why the row cannot be one. `bodyColumns` are the row's `body_N` columns in the
 * header's order; `common` holds `to`, `replyTo` and `extraInfo`.
 */
export const templateInput = (
  cell: Cell,
  bodyColumns: ReadonlyArray<string>,
  defaults: TemplateDefaults,
  common: Pick<MediaMessage.TemplateOptions, "to" | "replyTo" | "extraInfo">
): MediaMessage.TemplateInput | string => {
  const name = cell("template", true)
  if (name === undefined) return "template: is empty (a template row needs the template's name)"
  const language = cell("language", true)
  if (language === undefined) return "language: is empty (a template row needs the template's language, e.g. en_US)"
  if (cell("caption", false) !== undefined) return "caption: a template takes no caption (its text is the template's)"
  const headerType = cell("header", true)?.toLowerCase()
  const rowLink = cell("link", true)
  const rowId = cell("id", true)
  const fromRow = rowLink !== undefined || rowId !== undefined
  const link = fromRow ? rowLink : defaults.link
  const id = fromRow ? rowId : defaults.id
  let header: MediaMessage.TemplateHeader | undefined
  if (headerType !== undefined) {
    if (headerType !== "image" && headerType !== "video" && headerType !== "document") {
      return `header: must be image, video or document (got ${JSON.stringify(headerType.slice(0, 40))})`
    }
    // Both or neither are left to validation, which names the field.
    const source = {
      ...(link !== undefined ? { link } : {}),
      ...(id !== undefined ? { id } : {})
    } as MediaMessage.MediaSource
    const filename = cell("filename", false) ?? (headerType === "document" ? defaults.filename : undefined)
    header = headerType === "document"
      ? { document: filename === undefined ? source : { ...source, filename } }
      : headerType === "image"
      ? { image: source }
      : { video: source }
  } else if (fromRow) {
    return "header: is empty, but the row has a link or an id (say which media the header is: image, video or document)"
  }
  const body: Array<string> = []
  for (let i = 0; i < bodyColumns.length; i++) {
    const value = cell(bodyColumns[i], false)
    if (value === undefined) {
      if (bodyColumns.slice(i + 1).some((column) => cell(column, false) !== undefined)) {
        return `${bodyColumns[i]}: is empty, but a later body parameter is not (the parameters are positional)`
      }
      break
    }
    body.push(value)
  }
  return MediaMessage.template({
    ...common,
    name,
    language,
    ...(header !== undefined ? { header } : {}),
    ...(body.length > 0 ? { body } : {})
  })
}

/** The column of a template message's field (`template.components[1].parameters[0].text` is `body_1`, ...). */
export const templateColumnOf = (field: string, bodyColumns: ReadonlyArray<string>): string | undefined => {
  if (field === "template.name") return "template"
  if (field.startsWith("template.language")) return "language"
  const media = /^template\.components\[\d+\]\.parameters\[0\]\.(image|video|document)(?:\.(link|id|filename))?$/
    .exec(field)
  if (media !== null) return media[2] ?? "link/id"
  const text = /^template\.components\[\d+\]\.parameters\[(\d+)\]\.text$/.exec(field)
  if (text !== null) return bodyColumns[Number(text[1])] ?? `body_${Number(text[1]) + 1}`
  return undefined
}
