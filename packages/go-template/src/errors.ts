/**
 * Errors raised while rendering a config template, and helpers to turn a
 * string offset into the 1-based line/column a user can find in an editor.
 */

export class TemplateError extends Error {
  /** 1-based line of the offending action (or token inside it). */
  readonly line: number;
  /** 1-based column, counted in Unicode code points. */
  readonly column: number;
  /** The name the template was rendered under (usually the config path). */
  readonly fileName: string;
  /** The message without the location prefix. */
  readonly reason: string;

  constructor(reason: string, fileName: string, line: number, column: number) {
    super(`${fileName}:${line}:${column}: ${reason}`);
    this.name = 'TemplateError';
    this.reason = reason;
    this.fileName = fileName;
    this.line = line;
    this.column = column;
  }
}

/**
 * Thrown inside the lexer/parser/evaluator before the location is known in
 * file terms; `renderTemplate` converts it into a {@link TemplateError}.
 * Keeping positions as plain offsets until the end avoids threading the
 * source text and file name through every function.
 */
export class TemplateFailure extends Error {
  readonly pos: number;
  constructor(message: string, pos: number) {
    super(message);
    this.name = 'TemplateFailure';
    this.pos = pos;
  }
}

/** Converts a string offset into 1-based line and column (code points). */
export function lineAndColumn(text: string, pos: number): { line: number; column: number } {
  const at = Math.max(0, Math.min(pos, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  // Count code points rather than UTF-16 units so astral characters count once.
  let column = 1;
  for (let i = lineStart; i < at; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < at) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    column++;
  }
  return { line, column };
}
