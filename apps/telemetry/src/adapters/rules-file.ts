import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { AlertRulesError, validateAlertRules, type AlertRule } from '../domain/alerts/rules.js';

/** The rules file shipped beside `src/` and `dist/`: `apps/telemetry/alert-rules.yaml`. */
export const DEFAULT_ALERT_RULES_FILE = fileURLToPath(new URL('../../alert-rules.yaml', import.meta.url));

/** Parses rules YAML text. @throws AlertRulesError naming `source` and every problem. */
export function parseAlertRules(text: string, source: string): readonly AlertRule[] {
  let document: unknown;
  try {
    document = parse(text, { prettyErrors: true, strict: true, uniqueKeys: true });
  } catch (error) {
    throw new AlertRulesError(source, [`not valid YAML: ${(error as Error).message}`]);
  }
  return validateAlertRules(document, source);
}

/** Reads and validates a rules file at start-up. @throws AlertRulesError */
export function loadAlertRules(file: string = DEFAULT_ALERT_RULES_FILE): readonly AlertRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AlertRulesError(file, [`cannot read the file: ${(error as Error).message}`]);
  }
  return parseAlertRules(text, file);
}
