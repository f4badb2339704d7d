// The baseline: a minimal Node pass-through proxy that parses and re-serialises the JSON body,
// as any gateway must. Plinth's proxied numbers are reported as ratios to this one.
import http from 'node:http'
import { Pool } from 'undici'

const upstream = process.argv[2]
const pool = new Pool(upstream, { connections: 128, pipelining: 1 })

const server = http.createServer(async (req, res) => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  try {
    const response = await pool.request({
      method: 'POST',
      path: req.url!,
      headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
      body: JSON.stringify(body),
    })
    res.writeHead(response.statusCode, { 'content-type': String(response.headers['content-type']) })
    for await (const chunk of response.body) res.write(chunk)
    res.end()
  } catch (error) {
    res.writeHead(502).end(JSON.stringify({ error: { message: String(error) } }))
  }
})
server.keepAliveTimeout = 65_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number }
  process.stdout.write(`LISTENING ${address.port}\n`)
})
