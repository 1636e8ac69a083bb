/**
 * docs/dialin-menu.md's key tables, generated from the menu specs (menus.ts): each table sits between
 * `<!-- menu-table:<menu> -->` and `<!-- /menu-table:<menu> -->`. `npm run docs:menus` rewrites them;
 * test/ivr/dialin/menu-docs.test.ts fails when the doc and the specs disagree.
 */
import { MENU_NAMES, type MenuName } from '../../shared/dialin-keys.js';
import { actionsOf, MENU_SPECS, type MenuItemSpec } from './menus.js';

/** "`1`", "`*` or `#`". */
function keysCell(keys: string): string {
  return [...keys].map((key) => `\`${key}\``).join(' or ');
}

/** The Markdown table of one menu: default keys, what the action does, the configuration key that changes it. */
export function menuTable(menu: MenuName): string {
  const spec = MENU_SPECS[menu];
  const rows = actionsOf(menu).map((action) => {
    const item: MenuItemSpec = (spec.items as Record<string, MenuItemSpec>)[action]!;
    return `| ${keysCell(item.keys)} | ${item.doc} | \`dialin.keys.${menu}.${action}\` |`;
  });
  return ['| Key | Action | Configuration key |', '|-----|--------|-------------------|', ...rows].join('\n');
}

const markers = (menu: MenuName): { open: string; close: string } => ({
  open: `<!-- menu-table:${menu} -->`,
  close: `<!-- /menu-table:${menu} -->`,
});

/** `markdown` with every menu table replaced by the one generated from the specs; throws when a marker is missing. */
export function withMenuTables(markdown: string): string {
  let out = markdown;
  for (const menu of MENU_NAMES) {
    const { open, close } = markers(menu);
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) throw new Error(`no "${open}" … "${close}" section for the ${menu} menu`);
    out = `${out.slice(0, start + open.length)}\n${menuTable(menu)}\n${out.slice(end)}`;
  }
  return out;
}
