/** SIP transactions (RFC 3261 §17, RFC 6026): the state machines and the layer that matches messages to them. */
export { InviteServerTransaction, type InviteServerEvents, type InviteServerState, type TransactionContext } from './invite-server.js';
export { NonInviteServerTransaction, type NonInviteServerEvents, type NonInviteServerState } from './non-invite-server.js';
export { NonInviteClientTransaction, type ClientContext, type NonInviteClientEvents, type NonInviteClientState } from './non-invite-client.js';
export { TransactionLayer, type ReceiveRequestResult, type ServerTransaction, type TransactionLayerContext } from './transaction-layer.js';
export { MAGIC_COOKIE, newBranch, TransactionKeyError } from './keys.js';
export { TransactionStateError } from './machine.js';
export { DEFAULT_TIMERS, resolveTimers, TimerConfigError, type TimerValues } from './timers.js';
