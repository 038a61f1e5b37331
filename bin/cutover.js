#!/usr/bin/env node
// Runs the TypeScript CLI directly under Node's type stripping (Node >= 22.18).
import { runCli } from '../src/cli/main.ts';

await runCli();
