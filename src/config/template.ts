/**
 * Config-file templating: the subset of Go's text/template that
 * ContainerPilot configuration files use, rendering byte-for-byte what
 * ContainerPilot (Go's text/template, data = the environment as a
 * map[string]string, missingkey=zero) would render.
 *
 * Pipeline: lexer (template/lex.ts) → parser (template/parse.ts) →
 * evaluator (template/exec.ts), with Go's fmt and function library
 * reimplemented in template/fmt.ts and template/funcs.ts, and Go's regexp from
 * re2js (template/regexp.ts).
 */

import { TemplateError, TemplateFailure, lineAndColumn } from './template/errors.js';
import { DEFAULT_LIMITS, execute } from './template/exec.js';
import { FUNCTIONS } from './template/funcs.js';
import { parse } from './template/parse.js';
import { envMap } from './template/values.js';

export { TemplateError } from './template/errors.js';

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
