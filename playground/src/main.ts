// The playground page: a CodeMirror editor for .attn with the checker's diagnostics as lint
// marks, and beside it the compiler's stages in tabs (picture, IR after each pass, WGSL, plan);
// Run executes the spec on the browser's WebGPU and compares it with the CPU reference. The
// spec lives in the URL hash, so the address is a shareable link.

import { linter, lintGutter, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import { basicSetup, EditorView } from 'codemirror';
import { TARGET_NAMES } from '../../src/api/compile.js';
import { attnLanguage } from './attn-language.js';
import { runSpec, type RunReport } from './run.js';
import { decodeSpec, encodeSpec } from './share.js';
import { compileStages, type Stages } from './stages.js';

const EXAMPLE = `# Mistral-style sliding window, causal, with 4 attention sinks (StreamingLLM).
attention swa {
  heads: 4
  kv_heads: 2
  head_dim: 32
  causal: true
  mask: window(left: 64, right: 0) | sink(4)
}
`;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const seqInput = $<HTMLInputElement>('seq');
const targetSelect = $<HTMLSelectElement>('target');
const statusLine = $<HTMLSpanElement>('status');

for (const name of TARGET_NAMES) targetSelect.add(new Option(name, name, name === 'portable'));

let selectedTab = 'picture';
let latest: { key: string; stages: Stages } | null = null;

function currentSeq(): number {
  const n = Number(seqInput.value);
  return Number.isInteger(n) && n >= 1 ? n : 256;
}

/** Compiles the spec once per (text, target, N); the linter and the panes share the result. */
function stagesFor(spec: string): Stages {
  const key = `${targetSelect.value}\u0000${currentSeq()}\u0000${spec}`;
  if (latest?.key !== key) {
    const start = performance.now();
    latest = {
      key,
      stages: compileStages(spec, { target: targetSelect.value, seq: currentSeq() }),
    };
    statusLine.textContent = `compiled in ${(performance.now() - start).toFixed(0)} ms`;
  }
  return latest.stages;
}

const checkerLint = linter(
  (view): LintDiagnostic[] => {
    const stages = stagesFor(view.state.doc.toString());
    render(stages);
    return stages.diagnostics.map((d) => ({ ...d }));
  },
  { delay: 250 },
);

const initial = (await decodeSpec(location.hash)) ?? EXAMPLE;
const editor = new EditorView({
  doc: initial,
  parent: $('editor'),
  extensions: [
    basicSetup,
    attnLanguage,
    checkerLint,
    lintGutter(),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) scheduleShare();
    }),
  ],
});

let shareTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleShare(): void {
  clearTimeout(shareTimer);
  shareTimer = setTimeout(async () => {
    history.replaceState(null, '', '#' + (await encodeSpec(editor.state.doc.toString())));
  }, 300);
}

function render(stages: Stages): void {
  const list = $<HTMLUListElement>('diagnostics');
  list.replaceChildren(
    ...(stages.diagnostics.length === 0
      ? [item('ok', 'no problems')]
      : stages.diagnostics.map((d) => {
          const { line, col } = position(editor.state.doc.toString(), d.from);
          return item(d.severity, `${line}:${col} ${d.severity}: ${d.message}`);
        })),
  );
  const tabs: { id: string; label: string; show: () => Node }[] = [
    {
      id: 'picture',
      label: 'mask & block plan',
      show: () => {
        const box = document.createElement('div');
        if (stages.pictureSvg) box.innerHTML = stages.pictureSvg;
        else box.textContent = 'fix the errors to see the picture';
        return box;
      },
    },
  ];
  for (const m of stages.stages) {
    for (const stage of m.stages) {
      const id = `${m.module}/${stage.name}`;
      const label = stages.stages.length > 1 ? `${m.module}: ${stage.name}` : stage.name;
      tabs.push({ id, label, show: () => pre(stage.text) });
    }
  }
  if (!tabs.some((t) => t.id === selectedTab)) selectedTab = 'picture';
  $('tabs').replaceChildren(
    ...tabs.map((t) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.role = 'tab';
      button.dataset['tab'] = t.id;
      button.textContent = t.label;
      button.setAttribute('aria-selected', String(t.id === selectedTab));
      button.onclick = () => {
        selectedTab = t.id;
        render(stages);
      };
      return button;
    }),
  );
  $('view').replaceChildren(tabs.find((t) => t.id === selectedTab)!.show());
}

function item(cls: string, text: string): HTMLLIElement {
  const li = document.createElement('li');
  li.className = cls;
  li.textContent = text;
  return li;
}

function pre(text: string): HTMLPreElement {
  const element = document.createElement('pre');
  element.textContent = text;
  return element;
}

function position(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

function showRun(report: RunReport): void {
  const table = document.createElement('table');
  table.innerHTML =
    '<tr><th>attention</th><th>N</th><th>median ms</th><th>max abs error vs reference</th></tr>';
  for (const row of report.rows) {
    const tr = table.insertRow();
    tr.dataset['maxError'] = String(row.maxError);
    for (const cell of [
      row.name,
      String(row.seq),
      row.medianMs.toFixed(2),
      row.maxError.toExponential(2),
    ])
      tr.insertCell().textContent = cell;
    if (!(row.maxError <= 1e-4)) tr.cells[3]!.className = 'bad';
  }
  const caption = document.createElement('div');
  caption.textContent = `on ${report.adapter} (median of 3 runs: upload, dispatch, read-back)`;
  $('run-result').replaceChildren(caption, table);
}

$('run').onclick = async () => {
  const result = $('run-result');
  result.textContent = 'running (the first run compiles the kernels)…';
  result.dataset['state'] = 'running';
  try {
    showRun(await runSpec(editor.state.doc.toString(), currentSeq()));
    result.dataset['state'] = 'done';
  } catch (error) {
    result.textContent = `run failed: ${(error as Error).message}`;
    result.dataset['state'] = 'failed';
  }
};

$('share').onclick = async () => {
  const url = location.href.split('#')[0] + '#' + (await encodeSpec(editor.state.doc.toString()));
  history.replaceState(null, '', url);
  await navigator.clipboard?.writeText(url).catch(() => {});
  statusLine.textContent = 'link in the address bar (and the clipboard)';
};

for (const control of [seqInput, targetSelect]) {
  control.onchange = () => render(stagesFor(editor.state.doc.toString()));
}
render(stagesFor(initial));
Object.assign(globalThis, { attncPlayground: { editor } });
