/**
 * The dependency rule of src/ (issue 15), checked on every import of every source file. The layers, the rules and
 * the direction chosen for each former violation are documented in dependency-rules.ts:
 * - the configuration's shape lives in shared/config.ts and layers import their options from it (config/schema.ts
 *   used to import sip and mwi for their option schemas); config/ keeps only the loader;
 * - the outbox rows of a new message are computed by the store (store/recipients.ts), not by ivr calling notify;
 * - E.164 numbers, the WAV codec and the audio formats are in shared/, so notify, api and the CLI reach none of
 *   ivr, media or notify for them;
 * - metrics.ts is part of the composition root: ivr and ops declare the ports it implements, and the API gets the
 *   engine snapshot injected.
 */
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { checkDependencies, formatViolations, importGraph, type ImportEdge } from './dependency-rules.js';

const REPO = path.join(__dirname, '..', '..');

describe('the dependency rule of src/', () => {
  test('holds for every import in src/', () => {
    const edges = importGraph(REPO);
    // The parser finds every kind of import (a sanity check that the graph is not silently empty).
    expect(edges.length).toBeGreaterThan(300);
    expect(edges.some((e) => e.from === 'src/server.ts' && e.to === 'src/ivr/router.ts')).toBe(true);
    const violations = checkDependencies(edges);
    if (violations.length > 0) throw new Error(`the dependency rule is broken:\n${formatViolations(violations)}`);
  });
});

describe('checkDependencies on a made-up graph', () => {
  const edge = (from: string, to: string): ImportEdge => ({ from, to, specifier: `./${path.basename(to).replace(/\.ts$/, '.js')}` });
  const rulesBroken = (...edges: ImportEdge[]) => checkDependencies(edges).map((v) => v.rule);

  test('a clean graph passes', () => {
    expect(
      checkDependencies([
        edge('src/server.ts', 'src/ivr/router.ts'),
        edge('src/cli/operator.ts', 'src/api/routes/ovh/credentials.ts'),
        edge('src/ivr/router.ts', 'src/sip/headers.ts'),
        edge('src/ivr/router.ts', 'src/store/index.ts'),
        edge('src/notify/worker.ts', 'src/shared/log.ts'),
        edge('src/shared/audio/wav.ts', 'src/shared/audio/pcm-layout.ts'),
      ]),
    ).toEqual([]);
  });

  test('a layer importing ivr is refused, whichever layer it is', () => {
    for (const from of ['src/notify/templates.ts', 'src/api/validation.ts', 'src/store/x.ts', 'src/media/x.ts', 'src/sip/x.ts', 'src/mwi/x.ts', 'src/ops/x.ts', 'src/retention/x.ts']) {
      expect(rulesBroken(edge(from, 'src/ivr/numbers.ts')).join('\n')).toMatch(/never import ivr/);
    }
  });

  test('sip or media importing store, anything but the root importing api, config or the root are refused', () => {
    expect(rulesBroken(edge('src/media/recorder.ts', 'src/store/index.ts'))).toEqual([expect.stringMatching(/^sip, media never import store/)]);
    expect(rulesBroken(edge('src/sip/user-agent.ts', 'src/store/index.ts'))).toEqual([expect.stringMatching(/^sip, media never import store/)]);
    expect(rulesBroken(edge('src/notify/worker.ts', 'src/api/audio.ts'))).toEqual([expect.stringMatching(/^only root may import api/)]);
    expect(rulesBroken(edge('src/ivr/router.ts', 'src/config/load.ts'))).toEqual([expect.stringMatching(/^only root may import config/)]);
    expect(rulesBroken(edge('src/ops/outbox-backlog.ts', 'src/metrics.ts'))).toEqual([expect.stringMatching(/^no layer imports the composition root/)]);
  });

  test('shared or config importing any other layer is refused', () => {
    expect(rulesBroken(edge('src/shared/config.ts', 'src/sip/admission.ts'))).toEqual([expect.stringMatching(/^shared imports no other layer/)]);
    expect(rulesBroken(edge('src/config/load.ts', 'src/mwi/mwi-notifier.ts'))).toEqual([expect.stringMatching(/^config imports only shared/)]);
  });

  test('a cycle between two layers is reported with the imports that make it', () => {
    const violations = checkDependencies([edge('src/notify/templates.ts', 'src/store/index.ts'), edge('src/store/lines.ts', 'src/notify/recipients.ts')]);
    expect(violations).toEqual([
      { rule: 'no import cycle between layers: notify ↔ store', edges: [edge('src/notify/templates.ts', 'src/store/index.ts'), edge('src/store/lines.ts', 'src/notify/recipients.ts')] },
    ]);
    expect(formatViolations(violations)).toContain('src/store/lines.ts → src/notify/recipients.ts');
  });

  test('an unknown top-level layer and an unresolved import are reported', () => {
    expect(rulesBroken(edge('src/newlayer/x.ts', 'src/shared/log.ts'))).toEqual([expect.stringMatching(/declared layer/)]);
    expect(rulesBroken({ from: 'src/ivr/x.ts', to: 'unresolved:./gone.js', specifier: './gone.js' })).toEqual([expect.stringMatching(/resolves to a file/)]);
  });
});
