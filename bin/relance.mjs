#!/usr/bin/env node
// Runs the TypeScript sources directly (Node 20 cannot strip types itself): tsx registers its loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
