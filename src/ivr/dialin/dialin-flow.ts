/**
 * The dial-in service (issue 4): a subscriber calls the dial-in number, is recognised by caller ID or by line
 * number and PIN, and manages the mailbox from the keypad. The menus are declared in menus.ts (keys configurable
 * under `dialin.keys`) and documented in docs/dialin-menu.md.
 */
import type { Config } from '../../shared/config.js';
import type { Logger } from '../../shared/log.js';
import type { Store } from '../../store/index.js';
import type { Call } from '../call.js';
import type { PromptCatalog } from '../prompts/catalog.js';
import { DialInAuthenticator } from './authenticator.js';
import { CallEndedError, DialInVoice, SilentCallerError } from './dialin-voice.js';
import { lockoutPolicy } from '../../shared/config.js';
import { MailboxMainMenu } from './main-menu.js';
import { dialInMenus } from './menus.js';

export interface DialInContext {
  call: Call;
  store: Store;
  prompts: PromptCatalog;
  config: Config;
  logger: Logger;
  /** E.164 from P-Asserted-Identity or From. */
  caller?: string;
  /** Source IP of the call, kept with each PIN failure for the lockout log. */
  remote?: string;
  now?: () => number;
  /** How authentication ended (metrics): login by PIN or caller ID, or refusal after too many tries / locked. */
  onAuthOutcome?: (outcome: 'login-pin' | 'login-caller-id' | 'refused-too-many-tries' | 'refused-locked') => void;
  /** Each wrong line number or PIN (metrics). */
  onPinFailure?: () => void;
}

/**
 * Runs the dial-in call to its end: authentication, then the mailbox menus. Resolves once the call is over (the
 * caller hung up, or the flow said goodbye and sent BYE); never rejects — a failure is logged and the call ended.
 */
export async function runDialInFlow(ctx: DialInContext): Promise<void> {
  const { call, store, prompts, config, logger } = ctx;
  const now = ctx.now ?? Date.now;
  const voice = new DialInVoice(call, prompts, config.prompts.defaultLanguage);
  try {
    const auth = await new DialInAuthenticator({
      voice,
      store,
      logger,
      policy: lockoutPolicy(config),
      countryCode: config.voicemail.countryCode,
      now,
      ...(ctx.caller !== undefined ? { caller: ctx.caller } : {}),
      ...(ctx.remote !== undefined ? { remote: ctx.remote } : {}),
      ...(ctx.onPinFailure !== undefined ? { onWrongPin: ctx.onPinFailure } : {}),
    }).authenticate();
    ctx.onAuthOutcome?.(auth.kind === 'authenticated' ? (auth.by === 'pin' ? 'login-pin' : 'login-caller-id') : auth.reason === 'locked' ? 'refused-locked' : 'refused-too-many-tries');
    if (auth.kind === 'authenticated') {
      // The mailbox's own language from here on; config.prompts.defaultLanguage until it is known.
      voice.language = auth.line.language;
      await new MailboxMainMenu({ voice, store, config, logger, line: auth.line, now, menus: dialInMenus(config.dialin.keys) }).run();
    }
    await sayGoodbye(voice);
  } catch (err) {
    if (err instanceof CallEndedError) {
      logger.info('dial-in: caller hung up');
      return;
    }
    if (err instanceof SilentCallerError) {
      logger.info({ reason: err.message }, 'dial-in: no input, hanging up');
      await sayGoodbye(voice).catch(() => undefined);
    } else {
      logger.error({ err }, 'dial-in flow failed');
    }
  }
  if (!call.ended) await call.hangup().catch((err: unknown) => logger.warn({ err }, 'dial-in: BYE failed'));
}

async function sayGoodbye(voice: DialInVoice): Promise<void> {
  voice.flushDigits();
  await voice.sayUninterrupted(['goodbye']);
}
