/**
 * Parser: tokens → syntax tree, following Go's text/template/parse grammar
 * decision for decision (variable declarations, `else if` chaining, what may
 * start a pipeline stage), so that what Go accepts we accept and what Go
 * rejects we reject.
 */

import type { ArgNode, ChainNode, CommandNode, FieldNode, IfNode, Node, PipeNode, VariableNode } from './ast.js';
import { TemplateFailure } from './errors.js';
import { lex, type Token, type TokenType } from './lex.js';
import { parseNumber, unquoteCharConstant, unquoteString } from './literals.js';

/**
 * Deepest allowed nesting of blocks and parentheses. Real configs nest a
 * handful of levels; the bound keeps hostile input from exhausting the stack.
 */
export const MAX_NESTING = 100;

/** What the parser needs to know about the function table. */
export interface FunctionLookup {
  has(name: string): boolean;
}

export function parse(text: string, funcs: FunctionLookup): Node[] {
  return new Parser(lex(text), funcs).parseTemplate();
}

/** Operand-starting tokens, after which a pipeline stage may begin. */
const OPERAND_START: ReadonlySet<TokenType> = new Set<TokenType>([
  'bool',
  'charConstant',
  'complex',
  'dot',
  'field',
  'identifier',
  'number',
  'nil',
  'rawString',
  'string',
  'variable',
  'leftParen',
]);

/** A block keyword or `{{else}}`/`{{end}}` found where a list of items ends. */
interface ListEnd {
  readonly kind: 'end' | 'else';
  readonly pos: number;
}

class Parser {
  private index = 0;
  /** Variables visible at this point of the parse; Go checks uses statically. */
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private depth = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly funcs: FunctionLookup,
  ) {}

  // ---- token stream -------------------------------------------------------

  private next(): Token {
    const token = this.tokens[Math.min(this.index, this.tokens.length - 1)];
    if (token.type === 'error') throw new TemplateFailure(token.value, token.pos);
    this.index++;
    return token;
  }

  private backup(): void {
    this.index--;
  }

  private peek(): Token {
    const token = this.next();
    this.backup();
    return token;
  }

  private nextNonSpace(): Token {
    let token = this.next();
    while (token.type === 'space') token = this.next();
    return token;
  }

  private peekNonSpace(): Token {
    const token = this.nextNonSpace();
    this.backup();
    return token;
  }

  private fail(message: string, pos: number): never {
    throw new TemplateFailure(message, pos);
  }

  private unexpected(token: Token, context: string): never {
    this.fail(`unexpected ${describeToken(token)} in ${context}`, token.pos);
  }

  private expect(type: TokenType, context: string): Token {
    const token = this.nextNonSpace();
    if (token.type !== type) this.unexpected(token, context);
    return token;
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_NESTING) this.fail(`template nesting is too deep (more than ${MAX_NESTING} levels)`, pos);
  }

  // ---- lists and actions --------------------------------------------------

  parseTemplate(): Node[] {
    const root: Node[] = [];
    while (this.peek().type !== 'eof') {
      const item = this.textOrAction();
      if (isListEnd(item)) this.fail(`unexpected {{${item.kind}}}`, item.pos);
      root.push(item);
    }
    return root;
  }

  private textOrAction(): Node | ListEnd {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'text':
        return { kind: 'text', text: token.value, pos: token.pos, end: token.pos + token.value.length };
      case 'leftDelim':
        return this.action(token.pos);
      default:
        this.unexpected(token, 'input');
    }
  }

  /**
   * Items up to the `{{end}}` or `{{else}}` that closes the enclosing block.
   * `owner` names the block for the error raised if the input ends first.
   */
  private itemList(owner: { keyword: string; pos: number }): { list: Node[]; next: ListEnd } {
    const list: Node[] = [];
    while (this.peekNonSpace().type !== 'eof') {
      const item = this.textOrAction();
      if (isListEnd(item)) return { list, next: item };
      list.push(item);
    }
    this.fail(`unexpected EOF: {{${owner.keyword}}} has no matching {{end}}`, owner.pos);
  }

  private action(delimPos: number): Node | ListEnd {
    const token = this.nextNonSpace();
    switch (token.type) {
      case 'if':
      case 'range':
      case 'with':
        return this.control(token.type, delimPos);
      case 'else':
        return this.elseControl(delimPos);
      case 'end':
        this.expect('rightDelim', 'end');
        return { kind: 'end', pos: delimPos };
      case 'break':
      case 'continue':
        return this.loopControl(token, delimPos);
      case 'define':
      case 'template':
      case 'block':
        return this.fail(`{{${token.type}}} is not supported`, token.pos);
      default:
        break;
    }
    this.backup();
    const pipe = this.pipeline('command', 'rightDelim');
    return { kind: 'action', pipe, pos: delimPos, end: pipe.end };
  }

  private loopControl(token: Token, delimPos: number): Node {
    const kind = token.type === 'break' ? 'break' : 'continue';
    const close = this.nextNonSpace();
    if (close.type !== 'rightDelim') this.unexpected(close, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.fail(`{{${kind}}} outside {{range}}`, token.pos);
    return { kind, pos: delimPos, end: close.pos + 2 };
  }

  private elseControl(delimPos: number): ListEnd {
    // "{{else if x}}" is read as "{{else}}{{if x}}...{{end}}": leave the `if` for the caller.
    const peek = this.peekNonSpace();
    if (peek.type === 'if' || peek.type === 'with') return { kind: 'else', pos: delimPos };
    this.expect('rightDelim', 'else');
    return { kind: 'else', pos: delimPos };
  }

  /**
   * `if`, `with` and `range` blocks, including their `else` branches.
   * `{{else if x}}` is Go shorthand for `{{else}}{{if x}}…{{end}}{{end}}`; the
   * chain is read in a loop (not by recursion) so long chains cannot exhaust
   * the stack, then folded into the same nested shape Go builds.
   */
  private control(kind: 'if' | 'with' | 'range', delimPos: number): IfNode {
    this.enter(delimPos);
    const savedVars = this.vars.length;
    const branches: { pos: number; pipe: PipeNode; list: Node[] }[] = [];
    let elseList: Node[] | null = null;
    let pos = delimPos;
    for (;;) {
      const pipe = this.pipeline(kind, 'rightDelim');
      if (kind === 'range') this.rangeDepth++;
      const body = this.itemList({ keyword: kind, pos: delimPos });
      if (kind === 'range') this.rangeDepth--;
      branches.push({ pos, pipe, list: body.list });
      if (body.next.kind === 'end') break;
      if (kind !== 'range' && this.peek().type === kind) {
        this.next(); // the `if`/`with` of `{{else if …}}`
        pos = body.next.pos;
        continue;
      }
      const rest = this.itemList({ keyword: kind, pos: delimPos });
      if (rest.next.kind !== 'end') this.fail('expected end; found {{else}}', rest.next.pos);
      elseList = rest.list;
      break;
    }
    // Variables declared anywhere in the block go out of scope at its {{end}}.
    this.vars.length = savedVars;
    this.depth--;
    let node: IfNode | null = null;
    for (let i = branches.length - 1; i >= 0; i--) {
      const { pos: at, pipe, list } = branches[i];
      node = { kind, pipe, list, elseList: node ? [node] : elseList, pos: at, end: pipe.end };
    }
    return node as IfNode;
  }

  // ---- pipelines ------------------------------------------------------------

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const start = this.peekNonSpace().pos;
    const decl: string[] = [];
    let isAssign = false;
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const variableIndex = this.index;
      this.next();
      const next = this.peekNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        isAssign = next.type === 'assign';
        this.nextNonSpace();
        decl.push(v.value);
        this.vars.push(v.value);
        break;
      }
      if (next.type === 'char' && next.value === ',') {
        this.nextNonSpace();
        decl.push(v.value);
        this.vars.push(v.value);
        if (context === 'range' && decl.length < 2) {
          const after = this.peekNonSpace().type;
          if (after === 'variable' || after === 'rightDelim' || after === 'rightParen') continue;
          this.fail('range can only initialize variables', v.pos);
        }
        this.fail(`too many declarations in ${context}`, v.pos);
      }
      // Not a declaration: the variable is the pipeline's first operand.
      this.index = variableIndex;
      break;
    }
    const cmds: CommandNode[] = [];
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        const last = cmds.length > 0 ? cmds[cmds.length - 1].end : token.pos;
        const pipe: PipeNode = {
          kind: 'pipe',
          decl,
          isAssign,
          cmds,
          pos: start,
          end: end === 'rightParen' ? token.pos + 1 : last,
        };
        this.checkPipeline(pipe, context, token.pos);
        return pipe;
      }
      if (!OPERAND_START.has(token.type)) this.unexpected(token, context);
      this.backup();
      cmds.push(this.command());
    }
  }

  private checkPipeline(pipe: PipeNode, context: string, endPos: number): void {
    if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`, endPos);
    pipe.cmds.forEach((cmd, i) => {
      const first = cmd.args[0].kind;
      if (
        i > 0 &&
        (first === 'bool' || first === 'dot' || first === 'nil' || first === 'number' || first === 'string')
      ) {
        this.fail(`non executable command in pipeline stage ${i + 1}`, cmd.pos);
      }
    });
  }

  private command(): CommandNode {
    const start = this.peekNonSpace().pos;
    const args: ArgNode[] = [];
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) args.push(operand);
      const token = this.next();
      if (token.type === 'space') continue;
      if (token.type === 'rightDelim' || token.type === 'rightParen') this.backup();
      else if (token.type !== 'pipe') this.unexpected(token, 'operand');
      break;
    }
    if (args.length === 0) this.fail('empty command', start);
    return { kind: 'command', args, pos: start, end: args[args.length - 1].end };
  }

  /** A term optionally followed by `.Field` accesses. */
  private operand(): ArgNode | null {
    const node = this.term();
    if (!node) return null;
    if (this.peek().type !== 'field') return node;
    const fields: string[] = [];
    let end = node.end;
    while (this.peek().type === 'field') {
      const field = this.next();
      fields.push(field.value.slice(1));
      end = field.pos + field.value.length;
    }
    switch (node.kind) {
      case 'field':
        return { kind: 'field', idents: [...node.idents, ...fields], pos: node.pos, end } satisfies FieldNode;
      case 'variable':
        return { kind: 'variable', idents: [...node.idents, ...fields], pos: node.pos, end } satisfies VariableNode;
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.fail(`unexpected . after term`, node.end);
      default:
        return { kind: 'chain', node, fields, pos: node.pos, end } satisfies ChainNode;
    }
  }

  private term(): ArgNode | null {
    const token = this.nextNonSpace();
    const pos = token.pos;
    const end = pos + token.value.length;
    switch (token.type) {
      case 'identifier':
        if (!this.funcs.has(token.value)) this.fail(`function "${token.value}" not defined`, pos);
        return { kind: 'identifier', name: token.value, pos, end };
      case 'dot':
        return { kind: 'dot', pos, end };
      case 'nil':
        return { kind: 'nil', pos, end };
      case 'variable': {
        const name = token.value;
        if (!this.vars.includes(name)) this.fail(`undefined variable "${name}"`, pos);
        return { kind: 'variable', idents: [name], pos, end };
      }
      case 'field':
        return { kind: 'field', idents: [token.value.slice(1)], pos, end };
      case 'bool':
        return { kind: 'bool', value: token.value === 'true', pos, end };
      case 'number':
      case 'complex':
        return { kind: 'number', value: this.literal(() => parseNumber(token.value), pos), pos, end };
      case 'charConstant':
        return {
          kind: 'number',
          value: BigInt(
            this.literal(() => unquoteCharConstant(token.value), pos, `in character constant ${token.value}`),
          ),
          pos,
          end,
        };
      case 'string':
      case 'rawString':
        return {
          kind: 'string',
          value: this.literal(() => unquoteString(token.value), pos, `in string literal ${token.value}`),
          pos,
          end,
        };
      case 'leftParen': {
        this.enter(pos);
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        this.depth--;
        return { ...pipe, pos };
      }
      default:
        this.backup();
        return null;
    }
  }

  private literal<T>(decode: () => T, pos: number, where = ''): T {
    try {
      return decode();
    } catch (e) {
      this.fail(where ? `${(e as Error).message} ${where}` : (e as Error).message, pos);
    }
  }
}

function isListEnd(item: Node | ListEnd): item is ListEnd {
  return item.kind === 'end' || item.kind === 'else';
}

/** How a token is named in "unexpected …" messages. */
function describeToken(token: Token): string {
  switch (token.type) {
    case 'eof':
      return 'EOF';
    case 'rightDelim':
      return '"}}"';
    case 'leftDelim':
      return '"{{"';
    case 'space':
      return 'space';
    case 'text':
      return `text ${JSON.stringify(token.value.length > 20 ? `${token.value.slice(0, 20)}…` : token.value)}`;
    default:
      return JSON.stringify(token.value);
  }
}
