import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type FileServer = {
  url: string
  /** The Range header of each request, in order (undefined when none). */
  ranges: (string | undefined)[]
  close(): Promise<void>
}

/**
 * A local HTTP file server for download tests, on 127.0.0.1. It honours Range requests, and can
 * drop the connection after some bytes of its first answers, to test resuming.
 */
export async function fileServer(
  data: Buffer,
  options: { dropFirst?: number; dropAfterBytes?: number; ignoreRange?: boolean } = {},
): Promise<FileServer> {
  const ranges: (string | undefined)[] = []
  let drops = options.dropFirst ?? 0
  const server = http.createServer((req, res) => {
    ranges.push(req.headers.range)
    if (req.url?.includes('missing')) {
      res.writeHead(404).end('not found')
      return
    }
    let start = 0
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    if (range && !options.ignoreRange) {
      start = Number(range[1])
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end()
        return
      }
      res.writeHead(206, {
        'content-length': data.length - start,
        'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
      })
    } else {
      res.writeHead(200, { 'content-length': data.length })
    }
    const body = data.subarray(start)
    if (drops > 0) {
      drops--
      // a FIN, not a reset: a reset may discard bytes the client has not read yet, so the drop
      // would land at a varying offset
      res.write(body.subarray(0, options.dropAfterBytes ?? Math.floor(body.length / 2)), () =>
        res.socket?.end(),
      )
      return
    }
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    ranges,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
