#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/cli.bundle/ by `npm run build` (scripts/bundle.mjs).
import('../dist/cli.bundle/main.js').then((m) => m.main(process.argv.slice(2)));
