// The attnc language server (LSP over any connection; `attnc lsp` uses stdio): the checker's
// diagnostics as you type, hover text from docs/language.md, completion of properties,
// primitives and argument names, and whole-document formatting with the prettier plugin.

import { fileURLToPath } from 'node:url';
import {
  CompletionItemKind,
  DiagnosticSeverity,
  MarkupKind,
  TextDocumentSyncKind,
  TextDocuments,
  type CompletionItem,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type Hover,
  type TextEdit,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { formatOptionsFor, formatSpec, type FormatOptions } from '../format/format.js';
import { checkSource } from '../frontend.js';
import { Colon, Name } from '../syntax/tokens.js';
import { cursorContext, tokensOf } from './cursor-context.js';
import {
  CALLABLES,
  PLAIN_VALUES,
  PROPERTY_NAMES,
  allowedInGroup,
  argumentHover,
  callableHover,
  isProperty,
  propertyHover,
  signatureOf,
} from './vocabulary.js';

export function startLanguageServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);

  connection.onInitialize(() => ({
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: [':', '(', ',', '|', '&', ' '] },
      documentFormattingProvider: true,
    },
    serverInfo: { name: 'attnc' },
  }));

  documents.onDidChangeContent(({ document }) => {
    void connection.sendDiagnostics({
      uri: document.uri,
      version: document.version,
      diagnostics: diagnosticsFor(document),
    });
  });
  documents.onDidClose(({ document }) => {
    void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  connection.onHover(({ textDocument, position }) => {
    const document = documents.get(textDocument.uri);
    return document ? hoverAt(document, document.offsetAt(position)) : null;
  });

  connection.onCompletion(({ textDocument, position }) => {
    const document = documents.get(textDocument.uri);
    return document ? completionsAt(document.getText(), document.offsetAt(position)) : [];
  });

  connection.onDocumentFormatting(async ({ textDocument, options }) => {
    const document = documents.get(textDocument.uri);
    if (!document) return [];
    const fromConfig = await configFor(document.uri);
    return formattingEdits(document, {
      ...fromConfig,
      tabWidth: options.tabSize,
      useTabs: !options.insertSpaces,
    });
  });

  documents.listen(connection);
  connection.listen();
}

/** The checker's diagnostics, with notes as `help:` lines and secondary spans as related places. */
export function diagnosticsFor(document: TextDocument): LspDiagnostic[] {
  const { diagnostics } = checkSource(document.getText(), document.uri);
  return diagnostics.map((d) => toLspDiagnostic(d, document));
}

function toLspDiagnostic(d: Diagnostic, document: TextDocument): LspDiagnostic {
  const range = (span: { start: number; end: number }) => ({
    start: document.positionAt(span.start),
    end: document.positionAt(span.end),
  });
  const help = (d.notes ?? []).map((note) => `\nhelp: ${note}`).join('');
  return {
    range: range(d.primary.span),
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: d.code,
    source: 'attnc',
    message: `${d.message}${d.primary.message ? `: ${d.primary.message}` : ''}${help}`,
    ...(d.secondary?.length
      ? {
          relatedInformation: d.secondary.map((label) => ({
            location: { uri: document.uri, range: range(label.span) },
            message: label.message ?? '',
          })),
        }
      : {}),
  };
}

export function hoverAt(document: TextDocument, offset: number): Hover | null {
  const text = document.getText();
  const tokens = tokensOf(text);
  const index = tokens.findIndex((t) => t.startOffset <= offset && offset <= t.endOffset!);
  const token = tokens[index];
  if (!token || token.tokenType !== Name) return null;
  const context = cursorContext(text, token.startOffset);
  const beforeColon = tokens[index + 1]?.tokenType === Colon;
  let markdown: string | undefined;
  if (beforeColon && context.kind === 'item' && isProperty(token.image)) {
    markdown = propertyHover(token.image);
  } else if (beforeColon && context.kind === 'argument') {
    markdown = argumentHover(context.callee, token.image);
  } else if (!beforeColon) {
    markdown = callableHover(token.image);
  }
  if (!markdown) return null;
  return {
    contents: { kind: MarkupKind.Markdown, value: markdown },
    range: {
      start: document.positionAt(token.startOffset),
      end: document.positionAt(token.endOffset! + 1),
    },
  };
}

export function completionsAt(text: string, offset: number): CompletionItem[] {
  const context = cursorContext(text, offset);
  switch (context.kind) {
    case 'top':
      return [{ label: 'attention', kind: CompletionItemKind.Keyword, insertText: 'attention ' }];
    case 'item': {
      const items: CompletionItem[] = PROPERTY_NAMES.filter(
        (name) => !context.inGroup || allowedInGroup(name),
      ).map((name) => ({
        label: name,
        kind: CompletionItemKind.Property,
        insertText: `${name}: `,
        documentation: { kind: MarkupKind.Markdown, value: propertyHover(name) },
      }));
      if (!context.inGroup) {
        items.push({ label: 'group', kind: CompletionItemKind.Keyword, insertText: 'group ' });
      }
      return items;
    }
    case 'value': {
      const callables = Object.values(CALLABLES[context.property] ?? {}).map((signature) => ({
        label: signature.callee,
        kind: CompletionItemKind.Function,
        detail: signature.usage.replaceAll('`', ''),
        documentation: {
          kind: MarkupKind.Markdown,
          value: callableHover(signature.callee) ?? '',
        },
      }));
      const plain = (PLAIN_VALUES[context.property] ?? []).map((value) => ({
        label: value,
        kind: CompletionItemKind.EnumMember,
      }));
      return [...callables, ...plain];
    }
    case 'argument': {
      const found = signatureOf(context.callee);
      if (!found) return [];
      return found.signature.params
        .filter((param) => !context.given.includes(param.name))
        .map((param) => ({
          label: param.name,
          kind: CompletionItemKind.Field,
          insertText: `${param.name}: `,
          detail: `argument of ${context.callee}${param.required ? ' (required)' : ''}`,
          documentation: {
            kind: MarkupKind.Markdown,
            value: argumentHover(context.callee, param.name) ?? '',
          },
        }));
    }
    case 'none':
      return [];
  }
}

/** One edit replacing the whole text, or none when it is formatted or does not parse. */
export async function formattingEdits(
  document: TextDocument,
  options: FormatOptions,
): Promise<TextEdit[]> {
  const text = document.getText();
  const result = await formatSpec(text, options);
  if (!result.ok || result.formatted === text) return [];
  return [
    {
      range: { start: document.positionAt(0), end: document.positionAt(text.length) },
      newText: result.formatted,
    },
  ];
}

/** `.prettierrc` options for a file on disk (printWidth, ...); none for unsaved documents. */
async function configFor(uri: string): Promise<FormatOptions> {
  if (!uri.startsWith('file:')) return {};
  try {
    return await formatOptionsFor(fileURLToPath(uri));
  } catch {
    // An unreadable or malformed config must not stop formatting; prettier's defaults apply.
    return {};
  }
}
