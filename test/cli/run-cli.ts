// Runs the CLI from the sources (the tests must not depend on a stale build in dist/).
import { main } from '../../src/cli.js'

await main(process.argv.slice(2))
