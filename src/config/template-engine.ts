/**
 * The template engine (@pidpilot/go-template), for a configuration file with `{{` (load.ts).
 * Evaluating its modules — the lexer's and printer's Unicode-class regular expressions, its
 * tables — cost ≈ 9M instructions before the first job (bench/README.md) for the files that
 * have no template at all, most of them. So in the bundle it is evaluated on first use:
 * scripts/bundle.mjs replaces this module with one whose `templateEngine()` require()s the
 * engine, which esbuild turns into a lazy initialisation inside the bundle. Run from src/
 * (tests), the import below is the engine and this is all there is.
 */
import * as engine from '@pidpilot/go-template';

export type TemplateEngine = typeof engine;

export function templateEngine(): TemplateEngine {
  return engine;
}
