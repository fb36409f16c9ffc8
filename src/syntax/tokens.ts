// The spec language's tokens (language.md section 1). One lexer instance is reused.
// Numbers are lexed loosely (`256px`, `1e`) and validated when the AST is built, so a
// typo in a number gets one precise diagnostic instead of a cascade of token errors.
// The parser's input comes from scan.ts, which recognises these same tokens without making
// an object per token; a change here goes there too (test/syntax/scan.test.ts compares).

import { createToken, Lexer, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/,
  group: Lexer.SKIPPED,
});
/** Kept out of the parser's input, in the lexer's `comments` group for the formatter. */
export const Comment = createToken({
  name: 'Comment',
  pattern: /(?:#|\/\/)[^\n]*/,
  group: 'comments',
});

export const Name = createToken({
  name: 'Name',
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: 'a name',
});
export const Attention = createToken({
  name: 'Attention',
  pattern: /attention/,
  longer_alt: Name,
  label: '`attention`',
});
export const Group = createToken({
  name: 'Group',
  pattern: /group/,
  longer_alt: Name,
  label: '`group`',
});
export const True = createToken({
  name: 'True',
  pattern: /true/,
  longer_alt: Name,
  label: '`true`',
});
export const False = createToken({
  name: 'False',
  pattern: /false/,
  longer_alt: Name,
  label: '`false`',
});

/** Digits, then anything that could continue a number (validated later, see above). */
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]*)?[A-Za-z0-9_.]*/,
  label: 'a number',
});

export const LBrace = createToken({ name: 'LBrace', pattern: /{/, label: '`{`' });
export const RBrace = createToken({ name: 'RBrace', pattern: /}/, label: '`}`' });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: '`(`' });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: '`)`' });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: '`[`' });
export const RBracket = createToken({ name: 'RBracket', pattern: /]/, label: '`]`' });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: '`:`' });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/, label: '`;`' });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: '`,`' });
export const Pipe = createToken({ name: 'Pipe', pattern: /\|/, label: '`|`' });
export const Amp = createToken({ name: 'Amp', pattern: /&/, label: '`&`' });

/** Order matters: keywords before Name, Comment before anything starting with `/`. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  Attention,
  Group,
  True,
  False,
  Name,
  NumberLiteral,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Colon,
  Semicolon,
  Comma,
  Pipe,
  Amp,
];

export const specLexer = new Lexer(allTokens, {
  positionTracking: 'full',
  ensureOptimizations: true,
});
