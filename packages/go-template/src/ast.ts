/**
 * Syntax tree of a parsed template. Shapes follow Go's text/template/parse
 * nodes so that the evaluator can reproduce Go's evaluation rules directly.
 * Every node keeps its source span (`pos`..`end`) for error messages.
 */

interface Span {
  readonly pos: number;
  readonly end: number;
}

export interface TextNode extends Span {
  readonly kind: 'text';
  readonly text: string;
}

/** `{{ pipeline }}` — printed unless it declares variables. */
export interface ActionNode extends Span {
  readonly kind: 'action';
  readonly pipe: PipeNode;
}

export interface IfNode extends Span {
  readonly kind: 'if' | 'with' | 'range';
  readonly pipe: PipeNode;
  readonly list: readonly Node[];
  readonly elseList: readonly Node[] | null;
}

export interface LoopControlNode extends Span {
  readonly kind: 'break' | 'continue';
}

export type Node = TextNode | ActionNode | IfNode | LoopControlNode;

export interface PipeNode extends Span {
  readonly kind: 'pipe';
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline. */
  readonly decl: readonly string[];
  readonly isAssign: boolean;
  readonly cmds: readonly CommandNode[];
}

/** One stage of a pipeline: an operand followed by its arguments. */
export interface CommandNode extends Span {
  readonly kind: 'command';
  readonly args: readonly ArgNode[];
}

/** `.A.B` — idents are ["A", "B"]. */
export interface FieldNode extends Span {
  readonly kind: 'field';
  readonly idents: readonly string[];
}

/** `$x.A` — idents are ["$x", "A"]. */
export interface VariableNode extends Span {
  readonly kind: 'variable';
  readonly idents: readonly string[];
}

export interface IdentifierNode extends Span {
  readonly kind: 'identifier';
  readonly name: string;
}

/** `(pipeline).A.B` or `func.A`: fields applied to a non-field term. */
export interface ChainNode extends Span {
  readonly kind: 'chain';
  readonly node: ArgNode;
  readonly fields: readonly string[];
}

export interface DotNode extends Span {
  readonly kind: 'dot';
}

export interface NilNode extends Span {
  readonly kind: 'nil';
}

export interface BoolNode extends Span {
  readonly kind: 'bool';
  readonly value: boolean;
}

/**
 * A number literal, already reduced to the value Go gives an untyped
 * constant in an interface{} context: an `int` (bigint) or a `float64`.
 */
export interface NumberNode extends Span {
  readonly kind: 'number';
  readonly value: bigint | number;
}

export interface StringNode extends Span {
  readonly kind: 'string';
  readonly value: string;
}

export type ArgNode =
  | FieldNode
  | VariableNode
  | IdentifierNode
  | ChainNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;
