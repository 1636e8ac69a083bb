/**
 * The recipients of a new message's e-mails are computed by the store itself, in the transaction that inserts the
 * message (store/outbox.ts); re-exported here for the callers that enqueue notifications explicitly.
 */
export { notificationsFor, type NotificationDefaults } from '../store/outbox.js';
