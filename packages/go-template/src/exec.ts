/**
 * Evaluator: walks the syntax tree against the environment, reproducing Go's
 * text/template execution rules (exec.go): how a pipeline feeds its value to
 * the next command as the final argument, how arguments are converted to
 * parameter types, variable scoping by block, truthiness, and printing.
 *
 * It also enforces resource limits Go does not have, so a hostile or buggy
 * template fails with a clear error instead of hanging or exhausting memory.
 */

import type { ArgNode, ChainNode, FieldNode, IdentifierNode, IfNode, Node, PipeNode, VariableNode } from './ast.js';
import { TemplateFailure } from './errors.js';
import { formatValue } from './fmt.js';
import { FUNCTIONS, type FuncContext, type FuncDef, FuncError, type ParamType } from './funcs.js';
import { type GoArg, type GoMap, type GoValue, isTrue, typeName } from './values.js';

export interface ExecLimits {
  /** Maximum length of the rendered output, in UTF-16 code units. */
  readonly maxOutput: number;
  /** Maximum length of any string a function returns. */
  readonly maxString: number;
  /** Maximum number of evaluation steps (commands, iterations, items). */
  readonly maxSteps: number;
  /** Maximum number of elements `loop` may produce, all calls of a render together. */
  readonly maxLoop: number;
  /** Regex search work for the whole render: Σ (characters searched × pattern size), see regexp.ts. */
  readonly maxRegexWork: number;
}

export const DEFAULT_LIMITS: ExecLimits = {
  maxOutput: 16 * 1024 * 1024,
  maxString: 16 * 1024 * 1024,
  maxSteps: 5_000_000,
  maxLoop: 1_000_000,
  maxRegexWork: 20_000_000,
};

/** Marks "no value from a previous pipeline stage" (Go's missingVal). */
const MISSING = Symbol('missing');
type Final = GoValue | typeof MISSING;

/** Unwinds a range body for {{break}} / {{continue}}; caught by the enclosing range. */
class LoopSignal {
  constructor(readonly kind: 'break' | 'continue') {}
}
const BREAK = new LoopSignal('break');
const CONTINUE = new LoopSignal('continue');

interface Variable {
  readonly name: string;
  value: GoValue;
}

type Spanned = { readonly pos: number; readonly end: number };

export function execute(
  nodes: readonly Node[],
  source: string,
  root: GoMap,
  limits: ExecLimits = DEFAULT_LIMITS,
): string {
  return new State(source, root, limits).run(nodes);
}

class State {
  private readonly out: string[] = [];
  private outLength = 0;
  private steps = 0;
  /** Variable stack; blocks truncate it back on exit, like Go's mark/pop. */
  private readonly vars: Variable[];
  private readonly ctx: FuncContext;

  constructor(
    private readonly source: string,
    root: GoMap,
    private readonly limits: ExecLimits,
  ) {
    this.vars = [{ name: '$', value: root }];
    this.ctx = {
      env: root,
      maxLoop: limits.maxLoop,
      loopItems: { left: limits.maxLoop },
      regexWork: { left: limits.maxRegexWork, total: limits.maxRegexWork },
    };
  }

  run(nodes: readonly Node[]): string {
    this.walkList(this.vars[0].value, nodes);
    return this.out.join('');
  }

  // ---- errors and limits ------------------------------------------------------

  private context(node: Spanned): string {
    // Block nodes start at their "{{"; show just the expression, as Go does.
    const text = this.source.slice(node.pos, node.end).replace(/^\{\{-?\s*/, '');
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  }

  private fail(node: Spanned, message: string): never {
    throw new TemplateFailure(`at <${this.context(node)}>: ${message}`, node.pos);
  }

  private tick(node: Spanned): void {
    if (++this.steps > this.limits.maxSteps) {
      this.fail(node, `template execution exceeded ${this.limits.maxSteps} steps; is a loop running away?`);
    }
  }

  private write(node: Spanned, s: string): void {
    this.outLength += s.length;
    if (this.outLength > this.limits.maxOutput) {
      this.fail(node, `rendered output is larger than ${this.limits.maxOutput} characters`);
    }
    this.out.push(s);
  }

  // ---- statements ---------------------------------------------------------------

  private walkList(dot: GoValue, nodes: readonly Node[]): void {
    for (const node of nodes) this.walk(dot, node);
  }

  private walk(dot: GoValue, node: Node): void {
    this.tick(node);
    switch (node.kind) {
      case 'text':
        this.write(node, node.text);
        return;
      case 'action': {
        // Variables declared by an action stay in scope until the enclosing {{end}}.
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.write(node.pipe, formatValue(value));
        return;
      }
      case 'if':
      case 'with':
        this.walkIfOrWith(dot, node);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  /**
   * `if` and `with`. An else branch that is just another block of the same
   * kind (what `{{else if}}` produces) is handled in the same loop, so long
   * chains do not recurse; scoping is unchanged because every variable the
   * chain declares goes out of scope at the shared {{end}} either way.
   */
  private walkIfOrWith(dot: GoValue, first: IfNode): void {
    const mark = this.vars.length;
    try {
      let node = first;
      for (;;) {
        const value = this.evalPipeline(dot, node.pipe);
        if (isTrue(value)) {
          this.walkList(node.kind === 'with' ? value : dot, node.list);
          return;
        }
        const next = node.elseList;
        if (next && next.length === 1 && next[0].kind === node.kind) {
          node = next[0] as IfNode;
          this.tick(node);
          continue;
        }
        if (next) this.walkList(dot, next);
        return;
      }
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: GoValue, node: IfNode): void {
    const mark = this.vars.length;
    try {
      const value = this.evalPipeline(dot, node.pipe);
      const ran = this.iterate(node, value);
      // Go recovers {{break}} anywhere in the range statement, so one in the
      // else branch (legal when nested in an outer range) ends only this range.
      if (!ran && node.elseList) this.walkList(dot, node.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.vars.length = mark;
    }
  }

  /** Runs the range body over `value`; returns whether there was anything to iterate. */
  private iterate(node: IfNode, value: GoValue): boolean {
    const bodyMark = this.vars.length;
    // Returns true when the body executed {{break}}.
    const once = (index: GoValue | null, elem: GoValue): boolean => {
      this.tick(node.pipe);
      this.bindRangeVars(node.pipe, index, elem);
      try {
        this.walkList(elem, node.list);
      } catch (e) {
        if (e === BREAK) return true;
        if (e !== CONTINUE) throw e;
      } finally {
        this.vars.length = bodyMark;
      }
      return false;
    };
    if (typeof value === 'object') {
      if (value.kind === 'slice') {
        for (let i = 0; i < value.items.length; i++) if (once(BigInt(i), value.items[i])) break;
        return value.items.length > 0;
      }
      for (const key of value.keys) if (once(key, value.entries.get(key) ?? '')) break;
      return value.keys.length > 0;
    }
    if (typeof value === 'bigint') {
      // Go 1.22+: ranging over an int n yields 0..n-1.
      if (node.pipe.decl.length > 1) this.fail(node.pipe, `can't use ${value} to iterate over more than one variable`);
      for (let i = 0n; i < value; i++) if (once(null, i)) break;
      return value > 0n;
    }
    this.fail(node.pipe, `range can't iterate over ${formatValue(value)}`);
  }

  /** `range $e := …` binds the element; `range $i, $e := …` the index and the element. */
  private bindRangeVars(pipe: PipeNode, index: GoValue | null, elem: GoValue): void {
    const decl = pipe.decl;
    if (decl.length === 0) return;
    if (pipe.isAssign) {
      if (decl.length > 1) {
        this.setVar(pipe, decl[0], index ?? elem);
        this.setVar(pipe, decl[1], elem);
      } else this.setVar(pipe, decl[0], elem);
      return;
    }
    // The declared variables were pushed by evalPipeline, in order.
    this.vars[this.vars.length - 1].value = elem;
    if (decl.length > 1 && index !== null) this.vars[this.vars.length - 2].value = index;
  }

  // ---- variables ------------------------------------------------------------

  private findVar(node: Spanned, name: string): Variable {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i];
    this.fail(node, `undefined variable: ${name}`);
  }

  private setVar(node: Spanned, name: string, value: GoValue): void {
    this.findVar(node, name).value = value;
  }

  // ---- pipelines and commands -------------------------------------------------

  private evalPipeline(dot: GoValue, pipe: PipeNode): GoValue {
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd.args, value);
    if (value === MISSING) this.fail(pipe, 'empty pipeline');
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(pipe, name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  /** One pipeline stage; `final` is the previous stage's value, passed as the last argument. */
  private evalCommand(dot: GoValue, args: readonly ArgNode[], final: Final): GoValue {
    const first = args[0];
    this.tick(first);
    switch (first.kind) {
      case 'field':
        return this.evalFieldChain(dot, first, first.idents, args, final);
      case 'chain':
        return this.evalChain(dot, first, args, final);
      case 'identifier':
        return this.evalFunction(dot, first, args, final);
      case 'pipe':
        this.notAFunction(args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariable(first, args, final);
    }
    this.notAFunction(args, final);
    switch (first.kind) {
      case 'bool':
      case 'number':
      case 'string':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.fail(first, 'nil is not a command');
    }
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) {
      this.fail(args[0], `can't give argument to non-function ${this.context(args[0])}`);
    }
  }

  private evalVariable(node: VariableNode, args: readonly ArgNode[], final: Final): GoValue {
    const value = this.findVar(node, node.idents[0]).value;
    if (node.idents.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(value, node, node.idents.slice(1), args, final);
  }

  private evalChain(dot: GoValue, node: ChainNode, args: readonly ArgNode[], final: Final): GoValue {
    const receiver = this.evalArg(dot, 'any', node.node);
    if (receiver === null) this.fail(node, `indirection through explicit nil in ${this.context(node)}`);
    return this.evalFieldChain(receiver, node, node.fields, args, final);
  }

  private evalFieldChain(
    receiver: GoValue,
    node: FieldNode | VariableNode | ChainNode,
    idents: readonly string[],
    args: readonly ArgNode[],
    final: Final,
  ): GoValue {
    let value = receiver;
    for (let i = 0; i < idents.length - 1; i++) value = this.evalField(node, idents[i], value, false);
    const hasArgs = args.length > 1 || final !== MISSING;
    return this.evalField(node, idents[idents.length - 1], value, hasArgs);
  }

  /** `.Name` on a value: only the environment map has fields; a missing key is "". */
  private evalField(node: Spanned, name: string, receiver: GoValue, hasArgs: boolean): GoValue {
    if (typeof receiver === 'object' && receiver.kind === 'map') {
      if (hasArgs) this.fail(node, `${name} is not a method but has arguments`);
      return receiver.entries.get(name) ?? '';
    }
    this.fail(node, `can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  // ---- function calls ---------------------------------------------------------

  private evalFunction(dot: GoValue, node: IdentifierNode, args: readonly ArgNode[], final: Final): GoValue {
    const fn = FUNCTIONS.get(node.name);
    if (!fn) this.fail(node, `"${node.name}" is not a defined function`);
    // Errors point at the whole call ("printf "%d" 1"), not just the name.
    const call: Spanned = { pos: node.pos, end: args[args.length - 1].end };
    return this.evalCall(dot, fn, node.name, call, args.slice(1), final);
  }

  private evalCall(
    dot: GoValue,
    fn: FuncDef,
    name: string,
    node: Spanned,
    argNodes: readonly ArgNode[],
    final: Final,
  ): GoValue {
    const numIn = argNodes.length + (final === MISSING ? 0 : 1);
    const numFixed = fn.params.length;
    if (fn.variadic !== undefined) {
      if (numIn < numFixed)
        this.fail(node, `wrong number of args for ${name}: want at least ${numFixed} got ${argNodes.length}`);
    } else if (numIn !== numFixed) {
      this.fail(node, `wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }
    if (fn.shortCircuit) return this.evalAndOr(dot, name === 'or', argNodes, final);

    const argv: GoArg[] = argNodes.map((arg, i) =>
      this.evalArg(dot, i < numFixed ? fn.params[i] : (fn.variadic as ParamType), arg),
    );
    if (final !== MISSING) {
      // The piped value fills the last parameter (or the variadic tail).
      const slot = numIn - 1;
      const type = slot < numFixed ? fn.params[slot] : (fn.variadic as ParamType);
      argv.push(this.validateType(node, final, type));
    }
    let result: GoValue;
    try {
      result = fn.call(argv, this.ctx);
    } catch (e) {
      if (e instanceof FuncError) this.fail(node, `error calling ${name}: ${e.message}`);
      throw e;
    }
    if (typeof result === 'string' && result.length > this.limits.maxString) {
      this.fail(node, `${name} produced a string longer than ${this.limits.maxString} characters`);
    }
    return result;
  }

  /** `and` stops at the first false argument, `or` at the first true one; either returns it. */
  private evalAndOr(dot: GoValue, isOr: boolean, argNodes: readonly ArgNode[], final: Final): GoValue {
    let value: GoValue | undefined;
    for (const arg of argNodes) {
      value = this.evalArg(dot, 'value', arg) as GoValue;
      if (isTrue(value) === isOr) return value;
    }
    if (final !== MISSING) value = final;
    return value as GoValue;
  }

  /** Evaluates an argument for a parameter of the given Go type, with Go's conversions and checks. */
  private evalArg(dot: GoValue, type: ParamType, node: ArgNode): GoArg {
    switch (node.kind) {
      case 'dot':
        return this.validateType(node, dot, type);
      case 'nil':
        if (type === 'any') return null;
        return this.fail(node, `cannot assign nil to ${paramTypeName(type)}`);
      case 'field':
        return this.validateType(node, this.evalFieldChain(dot, node, node.idents, [node], MISSING), type);
      case 'variable':
        return this.validateType(node, this.evalVariable(node, [node], MISSING), type);
      case 'pipe':
        return this.validateType(node, this.evalPipeline(dot, node), type);
      case 'identifier':
        return this.validateType(node, this.evalFunction(dot, node, [node], MISSING), type);
      case 'chain':
        return this.validateType(node, this.evalChain(dot, node, [node], MISSING), type);
    }
    // A literal: typed by the parameter it is passed to.
    if (type === 'string') {
      if (node.kind === 'string') return node.value;
      this.fail(node, `expected string; found ${this.context(node)}`);
    }
    if (type === 'strings') this.fail(node, `can't handle ${this.context(node)} for arg of type []string`);
    return node.value;
  }

  private validateType(node: Spanned, value: GoValue, type: ParamType): GoValue {
    const ok =
      type === 'string'
        ? typeof value === 'string'
        : type === 'strings'
          ? typeof value === 'object' && value.kind === 'slice' && value.elem === 'string'
          : true;
    if (!ok) this.fail(node, `wrong type for value; expected ${paramTypeName(type)}; got ${typeName(value)}`);
    return value;
  }
}

function paramTypeName(type: ParamType): string {
  switch (type) {
    case 'string':
      return 'string';
    case 'strings':
      return '[]string';
    case 'any':
      return 'interface {}';
    case 'value':
      return 'reflect.Value';
  }
}
