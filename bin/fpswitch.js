#!/usr/bin/env node
// Entry of the installed `fpswitch` command. It runs the compiled JavaScript in dist/
// (built by `npm run build`, which `npm ci`/`npm install` run as `prepare`), so the
// command starts without compiling TypeScript. In a checkout that was never built it
// falls back to the TypeScript sources through tsx (slower start, same behaviour).
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
cli.runAsCommand();
