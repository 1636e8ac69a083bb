/**
 * The layers of src/ and the rules between them, checked by dependencies.test.ts.
 *
 * A file's layer is its first directory under src/ (`src/ivr/dialin/x.ts` → `ivr`). The composition root is
 * src/server.ts, src/cli.ts, src/metrics.ts and src/cli/: it builds every layer and injects one into another.
 *
 * - `shared` is the kernel every layer may use (logger, clock, config shape, E.164 numbers, net address, WAV codec,
 *   audio formats, SAMPLE_RATE, worker pool); it imports no other layer.
 * - The configuration's shape is `shared/config.ts` (zod schema and inferred types). A layer's section (admission,
 *   MWI) is declared there and the layer imports its options from it: the configuration depends on no layer.
 *   `config/` is only the loader (files, environment), used by the root.
 * - Only the root imports `ivr` (the call flows); `api` is imported by the root alone (the CLI is root).
 * - `sip` and `media` never import `store`. A layer never imports the root: what a layer needs from another it
 *   declares as a port and the root injects it (the call-metrics sink, the engine-metrics snapshot of the API).
 * - No cycle between layers.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const ROOT = 'root';

/** Every layer a file may belong to; a new top-level directory must be placed here (and in the rules) first. */
export const LAYERS = [ROOT, 'shared', 'config', 'sip', 'media', 'store', 'mwi', 'notify', 'api', 'ivr', 'ops', 'retention'] as const;

/** Top-level files and directories of src/ that form the composition root. */
const ROOT_ENTRIES = new Set(['server.ts', 'cli.ts', 'metrics.ts', 'cli']);

export interface ImportEdge {
  /** Importing file, relative to the repository (src/…). */
  from: string;
  /** Imported file, relative to the repository. */
  to: string;
  /** The specifier as written. */
  specifier: string;
}

export interface Violation {
  rule: string;
  edges: ImportEdge[];
}

/** The layer of a file given relative to the repository (`src/ivr/x.ts` → `ivr`, `src/server.ts` → root). */
export function layerOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'src' || parts.length < 2) throw new Error(`${file} is not under src/`);
  const top = parts[1]!;
  if (ROOT_ENTRIES.has(top)) return ROOT;
  return parts.length === 2 ? `file:${top}` : top;
}

function listSources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) listSources(p, out);
    else if (/\.(ts|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(fromFile), specifier);
  const candidates = [base, base.replace(/\.(m|c)?js$/, '.$1ts'), `${base}.ts`, path.join(base, 'index.ts'), path.join(base, 'index.js')];
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // next candidate
    }
  }
  return undefined;
}

/**
 * Every relative import of every source file under `repo/src`: static `import … from`, `export … from`,
 * side-effect `import '…'`, dynamic `import('…')` and `require('…')` (TypeScript's own pre-processor finds them,
 * so imports in comments and strings are not counted). An import that resolves to no file is an edge to
 * `unresolved:<specifier>` so that it shows up as a violation instead of vanishing.
 */
export function importGraph(repo: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of listSources(path.join(repo, 'src'))) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith('.')) continue;
      const target = resolveRelative(file, specifier);
      const from = path.relative(repo, file).split(path.sep).join('/');
      edges.push({ from, to: target ? path.relative(repo, target).split(path.sep).join('/') : `unresolved:${specifier}`, specifier });
    }
  }
  return edges;
}

/** `layer` may be imported only by the layers in `allowed` (and by itself). */
function onlyImportedBy(layer: string, allowed: readonly string[], why: string) {
  return { rule: `only ${allowed.join(', ')} may import ${layer} (${why})`, breaks: (from: string, to: string) => to === layer && from !== layer && !allowed.includes(from) };
}
function neverImports(importers: readonly string[], layer: string, why: string) {
  return { rule: `${importers.join(', ')} never import ${layer} (${why})`, breaks: (from: string, to: string) => to === layer && importers.includes(from) };
}

const RULES: { rule: string; breaks: (fromLayer: string, toLayer: string) => boolean }[] = [
  {
    rule: 'every file of src/ belongs to a declared layer (add a new top-level directory to LAYERS and to the rules)',
    breaks: (from, to) => !(LAYERS as readonly string[]).includes(from) || (!to.startsWith('unresolved:') && !(LAYERS as readonly string[]).includes(to)),
  },
  { rule: 'every relative import resolves to a file', breaks: (_from, to) => to.startsWith('unresolved:') },
  { rule: `shared imports no other layer (it is the kernel every layer uses)`, breaks: (from, to) => from === 'shared' && to !== 'shared' },
  {
    rule: 'no layer imports the composition root (server.ts, cli.ts, metrics.ts, cli/): the root injects what a layer needs',
    breaks: (from, to) => to === ROOT && from !== ROOT,
  },
  neverImports(['notify', 'api', 'store', 'media', 'sip', 'mwi', 'ops', 'retention', 'shared', 'config'], 'ivr', 'the call flows sit on top'),
  onlyImportedBy('ivr', [ROOT], 'the call flows are wired by the composition root'),
  neverImports(['sip', 'media'], 'store', 'signalling and RTP know nothing of mailboxes'),
  onlyImportedBy('api', [ROOT], 'the HTTP API is started by the root; the CLI is part of the root'),
  onlyImportedBy('config', [ROOT], 'config/ is the loader; layers use the shape in shared/config.ts'),
  { rule: 'config imports only shared (the configuration depends on no layer)', breaks: (from, to) => from === 'config' && to !== 'shared' },
];

/** The layer-level import graph's cycles (strongly connected components of more than one layer), Tarjan. */
function layerCycles(layerEdges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of layerEdges.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...layerEdges.keys()].sort()) if (!indices.has(v)) visit(v);
  return out;
}

/** The rules broken by `edges`, each with the imports that break it (empty: the graph is clean). */
export function checkDependencies(edges: readonly ImportEdge[]): Violation[] {
  const found = new Map<string, ImportEdge[]>();
  const note = (rule: string, edge: ImportEdge) => {
    if (!found.has(rule)) found.set(rule, []);
    found.get(rule)!.push(edge);
  };
  const layerEdges = new Map<string, Set<string>>();
  for (const edge of edges) {
    const from = layerOf(edge.from);
    const to = edge.to.startsWith('unresolved:') ? edge.to : layerOf(edge.to);
    for (const { rule, breaks } of RULES) if (breaks(from, to)) note(rule, edge);
    if (from !== to && !to.startsWith('unresolved:')) {
      if (!layerEdges.has(from)) layerEdges.set(from, new Set());
      layerEdges.get(from)!.add(to);
    }
  }
  for (const cycle of layerCycles(layerEdges)) {
    const members = new Set(cycle);
    const rule = `no import cycle between layers: ${cycle.join(' ↔ ')}`;
    for (const edge of edges) {
      const from = layerOf(edge.from);
      const to = edge.to.startsWith('unresolved:') ? '' : layerOf(edge.to);
      if (from !== to && members.has(from) && members.has(to)) note(rule, edge);
    }
  }
  return [...found].map(([rule, broken]) => ({ rule, edges: broken }));
}

/** A readable report: each broken rule, then its imports as `file → target ('specifier')`. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations
    .map((v) => `✗ ${v.rule}\n${v.edges.map((e) => `    ${e.from} → ${e.to}  ('${e.specifier}')`).join('\n')}`)
    .join('\n');
}
