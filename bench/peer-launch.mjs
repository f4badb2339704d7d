// node bench/peer-launch.mjs <port> <entry> [args...]: runs another gateway's command-line entry
// in this very process (so that the process id the benchmark reads /proc for is the gateway's
// own), and prints `LISTENING <port>` once the port takes connections, which is what
// startServer waits for: the peers announce themselves in their own ways, or not at all.
import net from 'node:net'
import { pathToFileURL } from 'node:url'

const [port, entry, ...args] = process.argv.slice(2)
process.argv = [process.argv[0], entry, ...args]
await import(pathToFileURL(entry).href)

const accepts = () =>
  new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
while (!(await accepts())) await new Promise((resolve) => setTimeout(resolve, 50))
process.stdout.write(`LISTENING ${port}\n`)
