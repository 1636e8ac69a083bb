export {
  DepositContextError,
  DepositFlow,
  trailingQuietMs,
  runDepositFlow,
  recoverSpooledMessages,
  type DepositContext,
  type DepositOutcome,
  type DepositResult,
  type RecoverSpoolOptions,
} from './deposit-flow.js';
export { chooseGreeting, systemPromptIds, DepositGreeting, GREETING_GAP_MS, type ComposedGreeting, type GreetingPlan } from './greeting.js';
export { DepositSpool, SpoolSidecarError, SpoolSidecarSchema, spoolDir, spoolName, type SpoolSidecar } from './spool.js';
export { ANONYMOUS_CALLER, storeDepositedMessage, type DepositedAudio, type StoredDeposit } from './store-message.js';
export { SpoolOwnedError, SpoolOwnership, defaultNodeId } from './spool-owner.js';
