import { describe, expect, test } from '@jest/globals';
import { ConfigError, loadConfig } from '../../../src/config/load.js';
import { defaultKeys, dialInMenus, DialInMenu, MAIN_MENU, OPTIONS_MENU } from '../../../src/ivr/dialin/menus.js';

describe('a menu with the default keys', () => {
  const menus = dialInMenus(defaultKeys());

  test('keys choose actions; unbound keys choose nothing', () => {
    expect(menus.main.actionFor('1')).toBe('listen');
    expect(menus.main.actionFor('#')).toBe('goodbye');
    expect(menus.main.actionFor('9')).toBeUndefined();
    expect(menus.options.actionFor('*')).toBe('back');
    expect(menus.options.actionFor('#')).toBe('back');
    expect(menus.folder.actionFor('5')).toBe('urgent');
  });

  test('is announced by its one-piece recording', () => {
    expect(menus.main.prompt).toEqual(['main_menu']);
    expect(menus.message.prompt).toEqual(['message_menu']);
    expect(menus.options.prompt).toEqual(['options_menu']);
    expect(menus.temporaryGreeting.prompt).toEqual(['temporary_greeting_menu']);
    expect(menus.folder.prompt).toEqual(['folder_menu']);
  });
});

describe('a menu with other keys', () => {
  test('is assembled from words naming the configured keys', () => {
    const menu = new DialInMenu(MAIN_MENU, { listen: '3', changeFolder: '2', options: '0', help: '*', goodbye: '#9' });
    expect(menu.actionFor('3')).toBe('listen');
    expect(menu.actionFor('1')).toBeUndefined();
    expect(menu.actionFor('9')).toBe('goodbye');
    expect(menu.prompt).toEqual([
      ...['menu_listen', 'press', 'number_3'],
      ...['menu_change_folder', 'press', 'number_2'],
      ...['menu_options', 'press', 'number_0'],
      ...['menu_repeat', 'press', 'star'],
      ...['menu_exit', 'press', 'pound'],
    ]);
  });

  test('an extra key after the announced one keeps the recording', () => {
    const menu = new DialInMenu(OPTIONS_MENU, { ...defaultKeys().options, back: '*#0' });
    expect(menu.actionFor('0')).toBe('back');
    expect(menu.prompt).toEqual(['options_menu']);
  });

  test('one key for two actions is refused', () => {
    expect(() => new DialInMenu(MAIN_MENU, { ...defaultKeys().main, help: '1' })).toThrow(/key "1" chooses both "listen" and "help"/);
  });
});

describe('configuration dialin.keys', () => {
  test('defaults to the specs', () => {
    expect(loadConfig({}).dialin.keys).toEqual(defaultKeys());
  });

  test('set by the environment, one key or several', () => {
    const c = loadConfig({ REPONDEUR_DIALIN_KEYS_MAIN_LISTEN: '3', REPONDEUR_DIALIN_KEYS_TEMPORARY_GREETING_BACK: '#' });
    expect(c.dialin.keys.main.listen).toBe('3');
    expect(c.dialin.keys.temporaryGreeting.back).toBe('#');
  });

  test.each([
    [{ REPONDEUR_DIALIN_KEYS_MAIN_LISTEN: '0' }, /"dialin.keys.main.listen": key "0" already chooses "options"|"dialin.keys.main.options": key "0" already chooses "listen"/],
    [{ REPONDEUR_DIALIN_KEYS_MAIN_LISTEN: 'A' }, /"dialin.keys.main.listen": must be one or more of the keys 0-9 \* #/],
    [{ REPONDEUR_DIALIN_KEYS_MAIN_LISTEN: '' }, /"dialin.keys.main.listen"/],
    [{ REPONDEUR_DIALIN_KEYS_OPTIONS_BACK: '**' }, /"dialin.keys.options.back": names a key twice/],
  ])('a bad value stops the start with the name of the key (%o)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('the same key in two menus is fine', () => {
    expect(loadConfig({ REPONDEUR_DIALIN_KEYS_MAIN_LISTEN: '7', REPONDEUR_DIALIN_KEYS_MAIN_OPTIONS: '0' }).dialin.keys.message.delete).toBe('7');
  });
});
