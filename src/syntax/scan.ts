// The parser's lexer: spec text -> a compact token stream (three typed arrays) plus the runs
// of characters no token matches. It recognises exactly what chevrotain's lexer built from
// tokens.ts recognises (test/syntax/scan.test.ts compares the two on every example and on
// random text), but allocates no object per token: a 4 MiB spec has a million tokens, and
// their objects, and collecting them, were most of the time of checking it. Token objects
// are made only for the declarations the chevrotain parser must see (parse.ts).

import { createTokenInstance, type IToken, type TokenType } from 'chevrotain';
import {
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

/** A token's kind is its index here. */
export const TOKEN_TYPES: readonly TokenType[] = [
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
export const enum Kind {
  Attention,
  Group,
  True,
  False,
  Name,
  Number,
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
}

/** Tokens in source order; token `i` is `text.slice(starts[i], ends[i])`. */
export interface TokenStream {
  readonly text: string;
  readonly count: number;
  readonly kinds: Uint8Array;
  readonly starts: Int32Array;
  /** Exclusive. */
  readonly ends: Int32Array;
}

export interface ScanResult {
  readonly tokens: TokenStream;
  /** Runs of characters that start no token, in source order (chevrotain's lexing errors). */
  readonly errorStarts: Int32Array;
  readonly errorLengths: Int32Array;
  readonly errorCount: number;
}

/** No match at this offset. */
const NONE = -1;
const KEYWORDS: readonly (readonly [string, Kind])[] = [
  ['attention', Kind.Attention],
  ['group', Kind.Group],
  ['true', Kind.True],
  ['false', Kind.False],
];
/** Kinds of the one-character tokens, by character code. */
const PUNCTUATION = new Map<number, Kind>(
  (
    [
      ['{', Kind.LBrace],
      ['}', Kind.RBrace],
      ['(', Kind.LParen],
      [')', Kind.RParen],
      ['[', Kind.LBracket],
      [']', Kind.RBracket],
      [':', Kind.Colon],
      [';', Kind.Semicolon],
      [',', Kind.Comma],
      ['|', Kind.Pipe],
      ['&', Kind.Amp],
    ] as const
  ).map(([ch, kind]) => [ch.charCodeAt(0), kind]),
);
/** The kind of white space and comments, which the parser does not see. */
const SKIP = 255;

class GrowingInts {
  values: Int32Array;
  count = 0;
  constructor(capacity: number) {
    this.values = new Int32Array(Math.max(16, capacity));
  }
  push(value: number): void {
    if (this.count === this.values.length) {
      const bigger = new Int32Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = value;
  }
  trimmed(): Int32Array {
    return this.values.subarray(0, this.count);
  }
}

export function scan(text: string): ScanResult {
  // About one token per four characters in real specs; the arrays grow when there are more.
  const capacity = (text.length >> 2) + 16;
  let kinds = new Uint8Array(capacity);
  const starts = new GrowingInts(capacity);
  const ends = new GrowingInts(capacity);
  const errorStarts = new GrowingInts(16);
  const errorLengths = new GrowingInts(16);
  const length = text.length;
  let offset = 0;
  while (offset < length) {
    const end = tokenEnd(text, offset);
    if (end === NONE) {
      // Like chevrotain: drop characters until one starts a token, and report the run.
      const start = offset;
      do offset++;
      while (offset < length && tokenEnd(text, offset) === NONE);
      errorStarts.push(start);
      errorLengths.push(offset - start);
      continue;
    }
    const kind = kindAt(text, offset, end);
    if (kind !== SKIP) {
      if (starts.count === kinds.length) {
        const bigger = new Uint8Array(kinds.length * 2);
        bigger.set(kinds);
        kinds = bigger;
      }
      kinds[starts.count] = kind;
      starts.push(offset);
      ends.push(end);
    }
    offset = end;
  }
  return {
    tokens: {
      text,
      count: starts.count,
      kinds: kinds.subarray(0, starts.count),
      starts: starts.trimmed(),
      ends: ends.trimmed(),
    },
    errorStarts: errorStarts.trimmed(),
    errorLengths: errorLengths.trimmed(),
    errorCount: errorStarts.count,
  };
}

/** The kind of the token (or SKIP for white space and comments) at [offset, end). */
function kindAt(text: string, offset: number, end: number): Kind | typeof SKIP {
  const c = text.charCodeAt(offset);
  if (isNameStart(c)) return keywordAt(text, offset, end - offset) ?? Kind.Name;
  if (isWhiteSpace(c) || c === 0x23 /* # */ || c === 0x2f /* / */) return SKIP;
  return PUNCTUATION.get(c) ?? Kind.Number;
}

/** A keyword is a whole name (`groups` is a name, as tokens.ts's `longer_alt` says). */
function keywordAt(text: string, offset: number, length: number): Kind | undefined {
  for (const [word, kind] of KEYWORDS) {
    if (word.length === length && text.startsWith(word, offset)) return kind;
  }
  return undefined;
}

/**
 * The end of the token (white space and comments included) starting at `offset`, or NONE.
 * One branch per token of tokens.ts; their patterns cannot start with the same character,
 * except a keyword and a name, which tokens.ts resolves to the longer match (the name).
 */
function tokenEnd(text: string, offset: number): number {
  const length = text.length;
  const c = text.charCodeAt(offset);
  if (isWhiteSpace(c)) {
    let end = offset + 1;
    while (end < length && isWhiteSpace(text.charCodeAt(end))) end++;
    return end;
  }
  if (c === 0x23 /* # */ || (c === 0x2f /* / */ && text.charCodeAt(offset + 1) === 0x2f)) {
    let end = offset + 1;
    while (end < length && text.charCodeAt(end) !== 0x0a) end++;
    return end;
  }
  if (isNameStart(c)) {
    let end = offset + 1;
    while (end < length && isNamePart(text.charCodeAt(end))) end++;
    return end;
  }
  if (PUNCTUATION.has(c)) return offset + 1;
  return numberEnd(text, offset);
}

/**
 * tokens.ts's NumberLiteral, `-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]*)?[A-Za-z0-9_.]*`,
 * matched greedily as the regular expression does: after the digits, an exponent's sign is
 * the one character the loose tail would not take.
 */
function numberEnd(text: string, offset: number): number {
  const length = text.length;
  let i = offset;
  if (text.charCodeAt(i) === 0x2d /* - */) i++;
  if (isDigit(text.charCodeAt(i))) {
    while (i < length && isDigit(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 0x2e /* . */) {
      i++;
      while (i < length && isDigit(text.charCodeAt(i))) i++;
    }
  } else if (text.charCodeAt(i) === 0x2e && isDigit(text.charCodeAt(i + 1))) {
    i += 2;
    while (i < length && isDigit(text.charCodeAt(i))) i++;
  } else {
    return NONE;
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 /* e */ || e === 0x45 /* E */) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 0x2b /* + */ || sign === 0x2d /* - */) i++;
  }
  while (i < length && (isNamePart(text.charCodeAt(i)) || text.charCodeAt(i) === 0x2e)) i++;
  return i;
}

function isWhiteSpace(c: number): boolean {
  // tokens.ts's WhiteSpace: [ \t\r\n\f\v\u00a0\ufeff]
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0xfeff;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

function isNamePart(c: number): boolean {
  return isNameStart(c) || isDigit(c);
}

/** The chevrotain token of stream token `i`, for the parser (lines and columns are not kept). */
export function tokenObject(tokens: TokenStream, i: number): IToken {
  const start = tokens.starts[i]!;
  const end = tokens.ends[i]!;
  return createTokenInstance(
    TOKEN_TYPES[tokens.kinds[i]!]!,
    tokens.text.slice(start, end),
    start,
    end - 1,
    NaN,
    NaN,
    NaN,
    NaN,
  );
}
