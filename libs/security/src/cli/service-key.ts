#!/usr/bin/env node
// `npm run -s service-key -- --service gateway --key-id 2026-01 --out secrets --jwks secrets/service-keys.jwks`
import { runServiceKeyCommand } from './service-key-command.js';

process.exitCode = await runServiceKeyCommand(process.argv.slice(2), process);
