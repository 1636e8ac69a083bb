/**
 * docs/dialin-menu.md, config/default.json and the one-piece menu recordings must say what the menu specs
 * (src/ivr/dialin/menus.ts) do.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MENU_NAMES } from '../../../src/shared/dialin-keys.js';
import { withMenuTables } from '../../../src/ivr/dialin/menu-docs.js';
import { actionsOf, defaultKeys, MENU_SPECS, type MenuItemSpec } from '../../../src/ivr/dialin/menus.js';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
const CATALOGUE = JSON.parse(read('prompts/catalogue.json')) as Record<string, Record<'fr' | 'en', string>>;

describe('docs/dialin-menu.md', () => {
  test('its key tables are the ones generated from the menu specs (fix: npm run docs:menus)', () => {
    const doc = read('docs/dialin-menu.md');
    expect(withMenuTables(doc)).toBe(doc);
  });

  test('a table that disagrees with the specs is rewritten', () => {
    const doc = read('docs/dialin-menu.md');
    const edited = doc.replace('| `1` | Listen', '| `3` | Listen');
    expect(edited).not.toBe(doc);
    expect(withMenuTables(edited)).toBe(doc);
  });
});

describe('default keys', () => {
  test("config/default.json has the specs' keys (Asterisk's) under dialin.keys", () => {
    const defaults = JSON.parse(read('config/default.json')) as { dialin: { keys: unknown } };
    expect(defaults.dialin.keys).toEqual(defaultKeys());
  });

  test("Asterisk's VoiceMailMain keys", () => {
    expect(defaultKeys().main).toEqual({ listen: '1', changeFolder: '2', options: '0', help: '*', goodbye: '#' });
    expect(defaultKeys().message).toMatchObject({ repeat: '5', previous: '4', next: '6', delete: '7', save: '9', envelope: '3', back: '#' });
    expect(Object.values(defaultKeys().folder)).toEqual(['0', '1', '2', '3', '4', '5', '#']);
  });
});

describe.each(['fr', 'en'] as const)('the one-piece recordings (%s)', (language) => {
  const press = language === 'fr' ? 'appuyez sur' : 'press';
  const keyWord = (key: string): string => (key === '*' ? (language === 'fr' ? 'étoile' : 'star') : key === '#' ? (language === 'fr' ? 'dièse' : 'pound') : key);

  test.each(MENU_NAMES)('%s: names the default key of each announced action, in order', (menu) => {
    const spec = MENU_SPECS[menu];
    const items = actionsOf(menu).map((action) => (spec.items as Record<string, MenuItemSpec>)[action]!);
    const announced = items.filter((item) => item.announce !== undefined).map((item) => keyWord(item.keys[0]!));
    const text = CATALOGUE[spec.recording]![language];
    const named = [...text.matchAll(new RegExp(`${press} (\\S+?)[.,]`, 'g'))].map((m) => m[1]);
    expect(named).toEqual(announced);
  });

  test.each(MENU_NAMES.filter((menu) => menu !== 'folder'))('%s: says the words the assembled menu says, in order', (menu) => {
    const spec = MENU_SPECS[menu];
    const text = CATALOGUE[spec.recording]![language];
    let from = 0;
    for (const action of actionsOf(menu)) {
      const item: MenuItemSpec = (spec.items as Record<string, MenuItemSpec>)[action]!;
      if (item.announce === undefined) continue;
      const words = item.announce.map((id) => CATALOGUE[id]![language]).join(' ');
      const at = text.indexOf(`${words}, ${press} `, from);
      expect({ action, words, found: at >= 0 }).toEqual({ action, words, found: true });
      from = at;
    }
  });
});
