#!/usr/bin/env -S node --max-old-space-size=1024
// The heap limit: V8 otherwise sizes it from the machine's memory (4 GB here) and lets the heap
// grow lazily to twice its live size under load; with 1 GB it collects sooner, at the same speed.
// The CLI runs the compiled build; `npm ci` builds it through the `prepare` script.
import('../dist/cli.js').then((m) => m.main(process.argv.slice(2)))
