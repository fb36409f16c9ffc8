// The spec grammar of language.md section 1 as a chevrotain CST parser. The class holds
// rules only (no actions); cst-to-ast.ts turns its output into the AST. Error recovery is
// on, so one parse reports every syntax error in a file rather than stopping at the first.
// It parses only the declarations that have errors: direct-parser.ts parses the well-formed
// ones, so a change to the grammar goes in both (test/syntax/direct-parser.test.ts compares).

import {
  CstParser,
  EOF,
  type IParserErrorMessageProvider,
  type IToken,
  type TokenType,
} from 'chevrotain';
import {
  allTokens,
  Amp,
  Attention,
  Colon,
  Comma,
  False,
  Group,
  LBrace,
  LBracket,
  LParen,
  Name,
  NumberLiteral,
  Pipe,
  RBrace,
  RBracket,
  RParen,
  Semicolon,
  True,
} from './tokens.js';

/** What each rule is, in words, for "expected ..." messages. */
const RULE_DESCRIPTIONS: Record<string, string> = {
  file: '`attention`',
  attention: 'a property or `group`',
  item: 'a property or `group`',
  group: 'a property',
  property: 'a property',
  expression: 'a value',
  intersection: 'a value',
  atom: 'a value',
  callOrName: 'a name',
  argument: 'an argument',
  list: 'a list',
  parenthesized: 'a value',
};

function describeToken(token: IToken): string {
  if (token.tokenType === EOF) return 'end of file';
  return `\`${token.image}\``;
}

function labelOf(tokenType: TokenType): string {
  // The parser expects EOF only where another declaration could start.
  if (tokenType === EOF) return '`attention`';
  return tokenType.LABEL ?? tokenType.name;
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    return `expected ${labelOf(expected)}, found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `expected \`attention\`, found ${describeToken(firstRedundant)}`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    const starts = new Set<string>();
    for (const alt of expectedPathsPerAlt) {
      for (const path of alt) {
        const first = path[0];
        if (first) starts.add(labelOf(first));
      }
    }
    const expected = RULE_DESCRIPTIONS[ruleName] ?? [...starts].join(', ');
    return `expected ${expected}, found ${describeToken(actual[0]!)}`;
  },
  buildEarlyExitMessage({ actual, ruleName }) {
    return `expected ${RULE_DESCRIPTIONS[ruleName] ?? 'more input'}, found ${describeToken(actual[0]!)}`;
  },
};

/** Far more than the syntax errors a file reports (100), far fewer than overflow the stack. */
export const MAX_REPETITION_RECOVERIES = 200;

/**
 * Syntax errors in one input past which the parser gives up on it (a file reports 100 in all):
 * recovering from each costs chevrotain a walk of the grammar, so one declaration of 100,000
 * properties without their colons took 6 s of CPU.
 */
export const MAX_ERRORS_PER_INPUT = 100;

/** Thrown through chevrotain's recovery (it is not a recognition exception) to give up. */
export const TOO_MANY_ERRORS = { name: 'TooManySyntaxErrors' };

interface RepetitionRecovery {
  shouldInRepetitionRecoveryBeTried(this: unknown, ...args: unknown[]): boolean;
}

interface ErrorHandler {
  SAVE_ERROR(this: unknown, error: unknown): unknown;
}

export class SpecParser extends CstParser {
  constructor() {
    super(allTokens, {
      recoveryEnabled: true,
      maxLookahead: 3,
      nodeLocationTracking: 'onlyOffset',
      errorMessageProvider: messages,
    });
    this.performSelfAnalysis();
  }

  /**
   * chevrotain re-enters a MANY loop recursively on every in-repetition recovery, so one
   * declaration with thousands of stray lines overflowed the stack (found by npm run fuzz).
   * Past MAX_REPETITION_RECOVERIES in one input the parser re-syncs instead, which unwinds.
   */
  private repetitionRecoveries = 0;

  private savedErrors = 0;

  override reset(): void {
    super.reset();
    this.repetitionRecoveries = 0;
    this.savedErrors = 0;
  }

  /** Every syntax error passes here; the one past MAX_ERRORS_PER_INPUT ends the parse. */
  SAVE_ERROR(error: unknown): unknown {
    const inherited = (CstParser.prototype as unknown as ErrorHandler).SAVE_ERROR;
    const saved = inherited.call(this, error);
    if (++this.savedErrors > MAX_ERRORS_PER_INPUT) throw TOO_MANY_ERRORS;
    return saved;
  }

  shouldInRepetitionRecoveryBeTried(...args: unknown[]): boolean {
    if (this.repetitionRecoveries >= MAX_REPETITION_RECOVERIES) return false;
    const inherited = (CstParser.prototype as unknown as RepetitionRecovery)
      .shouldInRepetitionRecoveryBeTried;
    const tried = inherited.apply(this, args);
    if (tried) this.repetitionRecoveries++;
    return tried;
  }

  public file = this.RULE('file', () => {
    this.MANY(() => this.SUBRULE(this.attention));
  });

  public attention = this.RULE('attention', () => {
    this.CONSUME(Attention);
    this.CONSUME(Name);
    this.CONSUME(LBrace);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.SUBRULE(this.group) },
        { ALT: () => this.SUBRULE(this.property) },
        { ALT: () => this.CONSUME(Semicolon) },
      ]),
    );
    this.CONSUME(RBrace);
  });

  public group = this.RULE('group', () => {
    this.CONSUME(Group);
    this.CONSUME(Name);
    this.CONSUME(LBrace);
    this.MANY(() =>
      this.OR([{ ALT: () => this.SUBRULE(this.property) }, { ALT: () => this.CONSUME(Semicolon) }]),
    );
    this.CONSUME(RBrace);
  });

  public property = this.RULE('property', () => {
    this.CONSUME(Name);
    this.CONSUME(Colon);
    this.SUBRULE(this.expression);
  });

  /** `a | b`: union; binds looser than `&`. */
  public expression = this.RULE('expression', () => {
    this.SUBRULE(this.intersection);
    this.MANY(() => {
      this.CONSUME(Pipe);
      this.SUBRULE2(this.intersection);
    });
  });

  public intersection = this.RULE('intersection', () => {
    this.SUBRULE(this.atom);
    this.MANY(() => {
      this.CONSUME(Amp);
      this.SUBRULE2(this.atom);
    });
  });

  public atom = this.RULE('atom', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.callOrName) },
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(True) },
      { ALT: () => this.CONSUME(False) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.parenthesized) },
    ]);
  });

  public callOrName = this.RULE('callOrName', () => {
    this.CONSUME(Name);
    this.OPTION(() => {
      this.CONSUME(LParen);
      this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.argument) });
      this.CONSUME(RParen);
    });
  });

  /** `name: value` or `value`; the checker enforces positional-before-named. */
  public argument = this.RULE('argument', () => {
    this.OPTION(() => {
      this.CONSUME(Name);
      this.CONSUME(Colon);
    });
    this.SUBRULE(this.expression);
  });

  public list = this.RULE('list', () => {
    this.CONSUME(LBracket);
    this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(RBracket);
  });

  public parenthesized = this.RULE('parenthesized', () => {
    this.CONSUME(LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(RParen);
  });
}

/** The one parser instance (chevrotain parsers are built once and reset per input). */
export const specParser = new SpecParser();
