import { readFileSync } from 'node:fs';
import path from 'node:path';

export const PROMPTS_DIR = path.resolve(__dirname, '..', '..', '..', 'prompts');

/** prompts/catalogue.json: id → text per language. */
export const CATALOGUE: Record<string, Record<string, string>> = JSON.parse(readFileSync(path.join(PROMPTS_DIR, 'catalogue.json'), 'utf8'));

/** What a list of prompt ids says, hyphens read as spaces ("quatre-vingt-un" → "quatre vingt un"). */
export function render(ids: readonly string[], language: 'fr' | 'en'): string {
  return ids
    .map((id) => {
      const text = CATALOGUE[id]?.[language];
      if (text === undefined) throw new Error(`prompt id "${id}" is not in the catalogue`);
      return text;
    })
    .join(' ')
    .replace(/-/g, ' ');
}

/** An expected phrase normalised like {@link render}. */
export function phrase(text: string): string {
  return text.replace(/-/g, ' ');
}
