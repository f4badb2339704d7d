#!/usr/bin/env node
// The CLI runs the compiled build; `npm ci` builds it through the `prepare` script.
import('../dist/cli.js').then((m) => m.main(process.argv.slice(2)))
