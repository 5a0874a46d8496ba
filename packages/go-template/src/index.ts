/**
 * @pidpilot/go-template's public entry: the subset of Go's text/template that
 * ContainerPilot configuration files use, rendering byte-for-byte what Go's
 * text/template renders (data = a map[string]string, missingkey=zero).
 *
 * Pipeline: lexer (lex.ts) → parser (parse.ts) → evaluator (exec.ts), with
 * Go's fmt and function library reimplemented in fmt.ts and funcs.ts, and Go's
 * regexp from re2js (regexp.ts).
 */

import { lineAndColumn, TemplateError, TemplateFailure } from './errors.js';
import { DEFAULT_LIMITS, execute } from './exec.js';
import { FUNCTIONS } from './funcs.js';
import { parse } from './parse.js';
import { envMap } from './values.js';

export { TemplateError } from './errors.js';
export { type Re2js, setRegexEngineLoader } from './regexp.js';

/**
 * Renders `text` with `env` as the data: `{{ .VAR }}` is the variable's value
 * and an unset variable renders as the empty string.
 *
 * @param fileName used in error messages (`file:line:col: message`).
 * @throws TemplateError for any syntax or execution error — and never anything else.
 */
export function renderTemplate(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  fileName = 'template',
  options: { maxOutput?: number } = {},
): string {
  const source = typeof text === 'string' ? text : String(text);
  try {
    const tree = parse(source, FUNCTIONS);
    // Budgets grow with the input so that a large but plain file is never refused.
    const limits = {
      ...DEFAULT_LIMITS,
      maxOutput: options.maxOutput ?? DEFAULT_LIMITS.maxOutput + source.length,
      maxSteps: DEFAULT_LIMITS.maxSteps + 4 * source.length,
    };
    return execute(tree, source, envMap(env), limits);
  } catch (e) {
    if (e instanceof TemplateError) throw e;
    if (e instanceof TemplateFailure) {
      const { line, column } = lineAndColumn(source, e.pos);
      throw new TemplateError(e.message, fileName, line, column);
    }
    // Not expected (a bug, or the JS engine running out of stack/memory); still
    // report it as a template error so callers only ever see one error type.
    const detail = e instanceof Error ? e.message : String(e);
    throw new TemplateError(`internal error while rendering template: ${detail}`, fileName, 1, 1);
  }
}
