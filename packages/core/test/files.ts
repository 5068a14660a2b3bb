/** Minimal files with real signatures, padded to any size. */
const pad = (head: ReadonlyArray<number>, size: number, fill = 0x00): Uint8Array<ArrayBuffer> => {
  const bytes = new Uint8Array(size).fill(fill)
  bytes.set(head.slice(0, size))
  return bytes
}
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0))

export const files = {
  png: (size = 1000) => pad([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, ...ascii("IHDR")], size),
  jpeg: (size = 1000) => pad([0xff, 0xd8, 0xff, 0xe0, 0, 16, ...ascii("JFIF")], size),
  webp: (size = 1000) => pad([...ascii("RIFF"), 0, 0, 0, 0, ...ascii("WEBPVP8 ")], size),
  animatedWebp: (size = 1000) =>
    pad([...ascii("RIFF"), 0, 0, 0, 0, ...ascii("WEBPVP8X"), 10, 0, 0, 0, 0x12, 0, 0, 0], size),
  pdf: (size = 1000) => pad(ascii("%PDF-1.7\n"), size, 0x20),
  mp4: (size = 1000) => pad([0, 0, 0, 0x20, ...ascii("ftypisom")], size),
  m4a: (size = 1000) => pad([0, 0, 0, 0x20, ...ascii("ftypM4A ")], size),
  threeGp: (size = 1000) => pad([0, 0, 0, 0x20, ...ascii("ftyp3gp5")], size),
  ogg: (size = 1000) => pad(ascii("OggS"), size),
  amr: (size = 1000) => pad(ascii("#!AMR\n"), size),
  mp3: (size = 1000) => pad(ascii("ID3"), size),
  aac: (size = 1000) => pad([0xff, 0xf1, 0x50, 0x80], size),
  text: (size = 1000) => pad(ascii("hello, world\n"), size, 0x61),
  doc: (size = 1000) => pad([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], size),
  docx: (size = 1000) => pad([0x50, 0x4b, 0x03, 0x04], size)
}
