#!/usr/bin/env node
// `npm run -s token -- --scopes memory:read,memory:write`: prints a development token (embedded mode).
import { runTokenCommand } from './token-command.js';

process.exitCode = await runTokenCommand(process.argv.slice(2), process.env, process);
