/** The SIP timers (A…L, dialog retransmissions, subscriptions) run on the process clock: see src/shared/clock.ts. */
export { ManualClock, systemClock, type Clock, type Timer } from '../shared/clock.js';
