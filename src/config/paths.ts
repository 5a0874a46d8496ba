/**
 * Field paths as shown to users (`jobs[2].health.interval`). Both the position
 * scanner and the validator build paths with these helpers, so a validation
 * error can be looked up in the position map by the exact same string.
 */

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (IDENT.test(key)) return parent === '' ? key : `${parent}.${key}`;
  // Keys that are not identifiers (possible in JSON5 with quotes) are bracketed.
  return `${parent}[${JSON.stringify(key)}]`;
}

/** The path of the enclosing object or array; '' for a top-level field. */
export function parentPath(path: string): string {
  if (path === '') return '';
  if (path.endsWith(']')) {
    // Either `[12]` or `["quoted"]`; a quoted key may itself contain `[`, so scan
    // for the opening bracket of the final segment from the known shapes.
    const m = /\[(?:\d+|"(?:[^"\\]|\\.)*")\]$/.exec(path);
    if (m) return path.slice(0, m.index);
  }
  const dot = path.lastIndexOf('.');
  const bracket = path.lastIndexOf(']');
  if (dot > bracket) return path.slice(0, dot);
  return bracket >= 0 ? path.slice(0, bracket + 1) : '';
}
