#!/usr/bin/env node
// The bin runs the TypeScript entry point directly under Node's type stripping.
// Node 22.18+ strips types by default; on older Node the pinned node@24 from
// devDependencies is what `npm start` / `npx cutover` use.
import '../src/cli/main.ts';
