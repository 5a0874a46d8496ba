/**
 * Go regular expressions for `regexReplaceAll`, on re2js: a pure-JS port of RE2 with Go's
 * syntax, which matches in time linear in the text whatever the pattern (no backtracking, so
 * `(a|a)*b` or `(x+x+)+y` cannot freeze PID 1 as a JS RegExp would).
 *
 * re2js (~260 KB) is required on first use only, so a template without a regex function never
 * loads it. By default it is required from node_modules; a host that keeps it elsewhere (pidpilot
 * vendors it beside its bundle) passes its own loader to `setRegexEngineLoader`.
 * Replacement follows Go's ReplaceAllString: `$1`, `${1}`, `$name`, `$$`, and Go's rules for
 * empty matches.
 *
 * Linear per search is not enough: ReplaceAll searches again after each match, and a search
 * may scan to the end of the text (`a*c|a` over "aaaa…" is quadratic, in Go too). So a render
 * has a work budget, charged before each search with what it can cost at most (the text left ×
 * the compiled program's size); a call that would go over it fails with an error instead of
 * running for minutes. Real uses (env values, hostnames, versions) stay far below.
 */

import { createRequire } from 'node:module';
import type { Matcher, RE2JS as RE2JSClass } from 're2js';

export class RegexpError extends Error {}

/** Search work a render may still do, in characters searched × pattern size. */
export interface RegexBudget {
  left: number;
  readonly total: number;
}

export interface GoRegexp {
  readonly re: RE2JSClass;
  /** Capture group index for each group name. */
  readonly names: ReadonlyMap<string, number>;
}

export type Re2js = typeof import('re2js');
let re2js: Re2js | undefined;
let loadEngine = (): Re2js => createRequire(import.meta.url)('re2js') as Re2js;

/** Replaces how re2js is loaded on first use (it is not loaded before, whatever the loader). */
export function setRegexEngineLoader(load: () => Re2js): void {
  loadEngine = load;
  re2js = undefined;
}

function engine(): Re2js {
  re2js ??= loadEngine();
  return re2js;
}

const cache = new Map<string, GoRegexp>();
const CACHE_LIMIT = 64;

/** Compiles a Go regular expression; throws {@link RegexpError} with Go's message on bad syntax. */
export function compileGoRegexp(pattern: string): GoRegexp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const { RE2JS, RE2JSException } = engine();
  let re: RE2JSClass;
  try {
    // No flags: Go's defaults (no lookbehind, which Go's regexp does not have).
    re = RE2JS.compile(pattern);
  } catch (e) {
    if (e instanceof RE2JSException) throw new RegexpError(goMessage(e));
    throw e;
  }
  const compiled: GoRegexp = { re, names: new Map(Object.entries(re.namedGroups())) };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

/** re2js says what Go says (`error parsing regexp: missing closing ): ...`), minus Java's wrapping. */
function goMessage(e: Error): string {
  return e.message.startsWith('error parsing regexp') ? e.message : `error parsing regexp: ${e.message}`;
}

/** Go's regexp.Regexp.Expand for one match. */
function expand(template: string, m: Matcher, groups: number, names: ReadonlyMap<string, number>): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = /^(\{)?([\p{L}\p{Nd}_]+)/u.exec(rest);
    if (!ref || (ref[1] && rest[ref[0].length] !== '}')) {
      out += '$'; // malformed reference: keep the dollar as text
      continue;
    }
    const name = ref[2];
    rest = rest.slice(ref[0].length + (ref[1] ? 1 : 0));
    let group = -1;
    if (/^[0-9]+$/.test(name) && !(name.length > 1 && name[0] === '0') && name.length <= 8) group = Number(name);
    else group = names.get(name) ?? -1;
    if (group >= 0 && group <= groups) out += m.group(group) ?? '';
  }
  return out + rest;
}

/** Go's Regexp.ReplaceAllString, including its handling of empty matches. */
export function replaceAllString(compiled: GoRegexp, src: string, template: string, budget: RegexBudget): string {
  const m = compiled.re.matcher(src);
  const groups = compiled.re.groupCount();
  const size = Math.max(1, compiled.re.programSize());
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  // Each search starts at searchPos with the whole text as context (for ^, \b), as Go's does.
  while (searchPos <= src.length) {
    budget.left -= (src.length - searchPos + 1) * size;
    if (budget.left < 0) {
      throw new RegexpError(
        `too much search work (a text of ${src.length} characters, a pattern of size ${size}): a template's regex calls may search at most ${budget.total} characters × pattern size in all`,
      );
    }
    if (!m.find(searchPos)) break;
    const a0 = m.start();
    const a1 = m.end();
    out += src.slice(lastMatchEnd, a0);
    // An empty match right after a previous match is not replaced.
    if (a1 > lastMatchEnd || a0 === 0) out += expand(template, m, groups, compiled.names);
    lastMatchEnd = a1;
    const cp = src.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return out + src.slice(lastMatchEnd);
}
