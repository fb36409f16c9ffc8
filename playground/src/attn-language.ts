// Highlighting for .attn in CodeMirror: a StreamLanguage tokenizer (# and // comments, properties,
// mask and kernel functions, numbers, braces). The grammar is small and line-based, so a stream
// mode is enough; the checker, not the highlighter, decides what is valid.

import { StreamLanguage, type StringStream } from '@codemirror/language';

const KEYWORDS = new Set(['attention', 'group', 'true', 'false']);

export const attnLanguage = StreamLanguage.define<{ afterColon: boolean }>({
  name: 'attn',
  startState: () => ({ afterColon: false }),
  token(stream: StringStream, state) {
    if (stream.sol()) state.afterColon = false;
    if (stream.eatSpace()) return null;
    if (stream.match('#') || stream.match('//')) {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.match(/^-?\d+(\.\d+)?([eE][-+]?\d+)?/)) return 'number';
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) {
      const word = stream.current();
      if (KEYWORDS.has(word)) return 'keyword';
      if (stream.match(/^\s*:/, false)) return state.afterColon ? 'attributeName' : 'propertyName';
      if (stream.match(/^\s*\(/, false)) return 'function';
      return state.afterColon ? 'atom' : 'variableName';
    }
    const c = stream.next();
    if (c === ':') {
      state.afterColon = true;
      return 'punctuation';
    }
    if (c !== undefined && '{}()[]'.includes(c)) return 'bracket';
    if (c === '|' || c === '&' || c === '!') return 'operator';
    return 'punctuation';
  },
  languageData: { commentTokens: { line: '#' } },
});
