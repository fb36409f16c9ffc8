// The language server end to end: `attnc lsp` is spawned and driven over stdio by a JSON-RPC
// client, as an editor would: open a document, get diagnostics, hover, completion,
// formatting, change the document, shut down.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';

const root = fileURLToPath(new URL('../..', import.meta.url));
const URI = 'file:///tmp/attnc-lsp-test/spec.attn';

interface PublishedDiagnostics {
  uri: string;
  version?: number;
  diagnostics: {
    range: { start: { line: number; character: number }; end: { line: number; character: number } };
    severity: number;
    code: string;
    source: string;
    message: string;
  }[];
}

let server: ChildProcessWithoutNullStreams;
let client: MessageConnection;
let stderr = '';
const published: PublishedDiagnostics[] = [];
const waiters: (() => void)[] = [];

function nextDiagnostics(version: number): Promise<PublishedDiagnostics> {
  return new Promise((resolve) => {
    const check = () => {
      const found = published.find((p) => p.version === version);
      if (found) resolve(found);
      else waiters.push(check);
    };
    check();
  });
}

beforeAll(async () => {
  server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'lsp', '--stdio'], {
    cwd: root,
  });
  server.stderr.on('data', (chunk) => (stderr += chunk));
  client = createMessageConnection(
    new StreamMessageReader(server.stdout),
    new StreamMessageWriter(server.stdin),
  );
  client.onNotification('textDocument/publishDiagnostics', (params: PublishedDiagnostics) => {
    published.push(params);
    for (const waiter of waiters.splice(0)) waiter();
  });
  client.listen();
  const init = (await client.sendRequest('initialize', {
    processId: process.pid,
    rootUri: null,
    capabilities: {},
  })) as { capabilities: Record<string, unknown>; serverInfo: { name: string } };
  expect(init.serverInfo.name).toBe('attnc');
  expect(init.capabilities).toMatchObject({
    hoverProvider: true,
    documentFormattingProvider: true,
    completionProvider: expect.any(Object),
  });
  await client.sendNotification('initialized', {});
  // Starting Node with tsx on a loaded machine can take seconds: more than the default 10.
}, 60_000);

afterAll(async () => {
  await client.sendRequest('shutdown');
  const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
  await client.sendNotification('exit');
  expect(await exited).toBe(0);
  client.dispose();
}, 60_000);

const TEXT = [
  'attention a {', // line 0
  '  haeds: 4', // 1: E200 with help
  '  head_dim: 64',
  '  mask: window(64) | global(0)', // 3
  '  group g{heads:2;mask:causal}', // 4
  '}',
  '',
].join('\n');

describe('attnc lsp', () => {
  it('publishes the checker diagnostics with code, range and help as a document opens', async () => {
    await client.sendNotification('textDocument/didOpen', {
      textDocument: { uri: URI, languageId: 'attn', version: 1, text: TEXT },
    });
    const { diagnostics } = await nextDiagnostics(1);
    const unknown = diagnostics.find((d) => d.code === 'E200');
    expect(unknown).toEqual({
      range: { start: { line: 1, character: 2 }, end: { line: 1, character: 7 } },
      severity: 1,
      code: 'E200',
      source: 'attnc',
      message: 'unknown property `haeds`\nhelp: did you mean `heads`?',
    });
    expect(stderr).toBe('');
  });

  it('updates diagnostics as the text changes (incremental edits)', async () => {
    await client.sendNotification('textDocument/didChange', {
      textDocument: { uri: URI, version: 2 },
      contentChanges: [
        {
          range: { start: { line: 1, character: 2 }, end: { line: 1, character: 7 } },
          text: 'heads',
        },
      ],
    });
    const { diagnostics } = await nextDiagnostics(2);
    expect(diagnostics.filter((d) => d.severity === 1)).toEqual([]);
  });

  it('hovers a property with its documentation from docs/language.md', async () => {
    const hover = (await client.sendRequest('textDocument/hover', {
      textDocument: { uri: URI },
      position: { line: 2, character: 4 },
    })) as { contents: { kind: string; value: string }; range: unknown };
    expect(hover.contents.kind).toBe('markdown');
    expect(hover.contents.value).toContain('**head_dim** (property)');
    expect(hover.contents.value).toContain('- value: integer 1..256');
    expect(hover.contents.value).toContain('- allowed in a group: no');
    expect(hover.range).toEqual({
      start: { line: 2, character: 2 },
      end: { line: 2, character: 10 },
    });
  });

  it('hovers a mask primitive with its forms and ranges', async () => {
    const hover = (await client.sendRequest('textDocument/hover', {
      textDocument: { uri: URI },
      position: { line: 3, character: 10 },
    })) as { contents: { value: string } };
    expect(hover.contents.value).toContain('**window**: a mask primitive, `mask: ...`');
    expect(hover.contents.value).toContain('`window(left: a, right: b)`');
  });

  it('completes property names at the start of a line, and only group ones in a group', async () => {
    const items = (await client.sendRequest('textDocument/completion', {
      textDocument: { uri: URI },
      position: { line: 3, character: 0 },
    })) as { label: string; insertText?: string }[];
    const labels = items.map((i) => i.label);
    expect(labels).toContain('head_dim');
    expect(labels).toContain('group');
    expect(items.find((i) => i.label === 'kv_heads')?.insertText).toBe('kv_heads: ');
    const inGroup = (await client.sendRequest('textDocument/completion', {
      textDocument: { uri: URI },
      position: { line: 4, character: 11 },
    })) as { label: string }[];
    expect(inGroup.map((i) => i.label)).toContain('heads');
    expect(inGroup.map((i) => i.label)).not.toContain('head_dim');
  });

  it('completes primitives after `|` and argument names inside a call', async () => {
    const primitives = (await client.sendRequest('textDocument/completion', {
      textDocument: { uri: URI },
      position: { line: 3, character: 21 },
    })) as { label: string }[];
    expect(primitives.map((i) => i.label)).toEqual(
      expect.arrayContaining(['window', 'global', 'random', 'causal', 'lsh']),
    );
    const args = (await client.sendRequest('textDocument/completion', {
      textDocument: { uri: URI },
      position: { line: 3, character: 16 },
    })) as { label: string }[];
    expect(args.map((i) => i.label)).toEqual(['width', 'left', 'right']);
  });

  it('formats the document with the prettier plugin, with the editor tab size', async () => {
    const edits = (await client.sendRequest('textDocument/formatting', {
      textDocument: { uri: URI },
      options: { tabSize: 4, insertSpaces: true },
    })) as { range: unknown; newText: string }[];
    expect(edits).toHaveLength(1);
    expect(edits[0]!.newText).toBe(
      [
        'attention a {',
        '    heads: 4',
        '    head_dim: 64',
        '    mask: window(64) | global(0)',
        '    group g { heads: 2; mask: causal }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('returns no edits for text that does not parse (the diagnostics say why)', async () => {
    await client.sendNotification('textDocument/didChange', {
      textDocument: { uri: URI, version: 3 },
      contentChanges: [{ text: 'attention a {\n  heads 4\n}\n' }],
    });
    const { diagnostics } = await nextDiagnostics(3);
    expect(diagnostics.map((d) => d.code)).toContain('E101');
    const edits = await client.sendRequest('textDocument/formatting', {
      textDocument: { uri: URI },
      options: { tabSize: 2, insertSpaces: true },
    });
    expect(edits).toEqual([]);
  });
});
