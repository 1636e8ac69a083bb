import { GREETING_GAP_MS, systemPromptIds } from '../../src/ivr/deposit/index.js';
import { BUILTIN_PROMPT_DIR, PromptCatalog } from '../../src/ivr/prompts/catalog.js';

/**
 * How long a SIPp deposit scenario waits before it sends audio: the demo line's system greeting in French (the
 * prompts that say 09 12 34 56 78), the gap before the beep, the beep (300 ms) and 1.2 s of slack.
 */
export async function demoGreetingWaitMs(): Promise<number> {
  const prompts = await PromptCatalog.load(BUILTIN_PROMPT_DIR);
  const ids = systemPromptIds({ source: 'system' }, { language: 'fr', spokenNumber: '0912345678', busy: false, doNotRecord: false });
  return Math.ceil(prompts.durationMs('fr', ids, GREETING_GAP_MS)) + 300 + 1200;
}
