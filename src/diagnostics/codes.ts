// The stable diagnostic codes. A code never changes meaning once published: editors,
// CI scripts and docs refer to them. Add new codes; do not renumber.
//   E1xx syntax, E2xx names, E3xx arguments and types, E4xx ranges,
//   E5xx rules between properties, E6xx compilation (what checks but cannot be compiled
//   for the target), W1xx warnings (legal, but likely a mistake).

export const DIAGNOSTIC_CODES = {
  E100: 'unexpected character',
  E101: 'unexpected token',
  E102: 'unexpected end of file',
  E103: 'malformed number',
  E104: 'not a text file',
  E105: 'file too large',
  E106: 'nested too deep',
  E107: 'declaration too long',

  E200: 'unknown property',
  E201: 'unknown mask primitive',
  E202: 'unknown feature map',
  E203: 'unknown low-rank method',
  E204: 'unknown argument name',
  E205: 'duplicate property',
  E206: 'duplicate attention name',
  E207: 'duplicate group name',
  E208: 'duplicate argument',
  E209: 'unknown value',
  E210: 'property not allowed in a group',

  E300: 'wrong number of arguments',
  E301: 'wrong type',
  E302: 'positional argument after a named one',
  E303: 'not a mask',
  E304: 'operator not allowed here',
  E305: 'missing required property',
  E306: 'argument given twice',

  E400: 'value out of range',
  E401: 'odd bucket count',
  E402: 'too many routed heads',

  E500: 'kv_heads does not divide heads',
  E501: 'kernel needs a full or causal mask',
  E502: 'low-rank attention cannot be causal',
  E503: 'low-rank attention needs a full mask',
  E504: 'both kernel and lowrank',
  E505: 'linformer needs max_seq',
  E506: 'score modifier not allowed with this mechanism',

  E600: 'not supported yet',
  E601: 'unknown target',
  E602: 'exceeds a compile limit',

  W100: 'no attention declared',
  W101: 'window wider than max_seq',
  W102: 'position listed twice',
  W103: 'position beyond max_seq',
  W104: 'causal given twice',
  W105: 'term has no effect',
  W106: 'head routing keeps every head',
  W107: 'routing with a single bucket allows everything',
  W108: 'no compression',
  W109: 'set on the attention but overridden by every group',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
