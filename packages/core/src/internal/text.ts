/**
 * Text rules shared by the message fields and the upload's file name.
 *
 * @internal
 */

/**
 * An unpaired surrogate: not valid Unicode text, it cannot be encoded as UTF-8 (JSON.stringify would write it as an
 * escape that Kaleyra may mangle; a multipart body would carry U+FFFD in its place).
 */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
