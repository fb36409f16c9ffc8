// Where in the grammar a cursor is, from the tokens before it: at the start of an item
// (a property or `group`), in a property's value, or at an argument of a call. Works on
// text that does not parse yet, which is what an editor has while someone types.

import type { IToken, TokenType } from 'chevrotain';
import {
  Amp,
  Attention,
  Colon,
  Comma,
  Group,
  LBrace,
  LBracket,
  LParen,
  Name,
  Pipe,
  RBrace,
  RBracket,
  RParen,
  Semicolon,
  specLexer,
} from '../syntax/tokens.js';

export type CursorContext =
  /** Between declarations: `attention` may start here. */
  | { readonly kind: 'top' }
  /** Where a property (or, in an attention, a `group`) may start. */
  | { readonly kind: 'item'; readonly inGroup: boolean }
  /** Where a value of `property` may start (after `:`, `|`, `&`, `(` or `[`). */
  | { readonly kind: 'value'; readonly property: string }
  /** Where an argument of `callee` may start; `given` lists names already used. */
  | {
      readonly kind: 'argument';
      readonly callee: string;
      readonly property: string;
      readonly given: readonly string[];
    }
  | { readonly kind: 'none' };

type Frame =
  | { type: 'file' }
  | { type: 'block'; inGroup: boolean; property: string }
  | { type: 'call'; callee: string; property: string; given: string[] }
  | { type: 'nest'; property: string };

export function tokensOf(text: string): IToken[] {
  return specLexer.tokenize(text).tokens;
}

/** The context at `offset`; a name being typed right before the cursor does not count. */
export function cursorContext(text: string, offset: number): CursorContext {
  const tokens = tokensOf(text).filter(
    (t) => t.endOffset! + 1 <= offset && !(t.tokenType === Name && t.endOffset! + 1 === offset),
  );
  const stack: Frame[] = [{ type: 'file' }];
  let pendingBlock: 'attention' | 'group' | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const next = tokens[i + 1];
    const frame = stack[stack.length - 1]!;
    const property = frame.type === 'file' ? '' : frame.property;
    const type = token.tokenType;
    if (type === Attention) pendingBlock = 'attention';
    else if (type === Group) pendingBlock = 'group';
    else if (type === LBrace && pendingBlock) {
      stack.push({ type: 'block', inGroup: pendingBlock === 'group', property: '' });
      pendingBlock = undefined;
    } else if (type === RBrace) {
      while (stack.length > 1 && stack.pop()!.type !== 'block');
    } else if (type === Name && next?.tokenType === Colon && frame.type === 'block') {
      frame.property = token.image;
    } else if (type === Name && next?.tokenType === Colon && frame.type === 'call') {
      frame.given.push(token.image);
    } else if (type === Name && next?.tokenType === LParen) {
      stack.push({ type: 'call', callee: token.image, property, given: [] });
      i++;
    } else if (type === LParen || type === LBracket) {
      stack.push({ type: 'nest', property });
    } else if (type === RParen || type === RBracket) {
      if (stack.length > 1 && stack[stack.length - 1]!.type !== 'block') stack.pop();
    }
  }

  const frame = stack[stack.length - 1]!;
  const last = tokens[tokens.length - 1];
  const lastIs = (...types: TokenType[]) => last !== undefined && types.includes(last.tokenType);
  switch (frame.type) {
    case 'file':
      return { kind: 'top' };
    case 'block': {
      if (lastIs(LBrace, Semicolon, RBrace)) return { kind: 'item', inGroup: frame.inGroup };
      if (lastIs(Colon, Pipe, Amp)) return { kind: 'value', property: frame.property };
      const between = text.slice(last ? last.endOffset! + 1 : 0, offset);
      return between.includes('\n') ? { kind: 'item', inGroup: frame.inGroup } : { kind: 'none' };
    }
    case 'call':
      if (lastIs(LParen, Comma)) {
        return {
          kind: 'argument',
          callee: frame.callee,
          property: frame.property,
          given: frame.given,
        };
      }
      return lastIs(Pipe, Amp) ? { kind: 'value', property: frame.property } : { kind: 'none' };
    case 'nest':
      return lastIs(LParen, LBracket, Comma, Pipe, Amp)
        ? { kind: 'value', property: frame.property }
        : { kind: 'none' };
  }
}
