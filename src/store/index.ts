export { openStore, Store, type OpenStoreOptions, type Repositories } from './store.js';
export { StoreError, NotFoundError, ConflictError, ValidationError } from './errors.js';
export { SqliteWorkerLostError, type SqliteWorkerDatabase } from './sqlite-worker/worker-database.js';
export { parseSqliteUrl, type SqliteLocation } from './sqlite-url.js';
export * from './schema.js';
export { hashPin, verifyPinHash, verifyPinOrDecoy } from './pin.js';
export { LineRepository, type Line, type CreateLineInput } from './lines.js';
export {
  MessageRepository,
  type Message,
  type CreateMessageInput,
  type CreateMessageOptions,
  type CreateMessageResult,
  type ListMessagesOptions,
} from './messages.js';
export { GreetingRepository, type Greeting, type GreetingInfo, type PutGreetingInput } from './greetings.js';
export { AuthFailureRepository, DEFAULT_LOCKOUT_POLICY, computeLockedUntil, type AuthFailure } from './auth-failures.js';
export { type LockoutPolicy } from '../shared/config.js';
export { OutboxRepository, type OutboxJob, type OutboxStatus } from './outbox.js';
export { RetentionLogRepository, type RetentionLogEntry, type RetentionRecord } from './retention-log.js';
export { OvhConsumerKeyRepository, type OvhConsumerKey } from './ovh-consumer-keys.js';
export type { Database, StoreDialect } from './tables.js';
export { notificationsFor, type NotificationDefaults } from './recipients.js';
export { MwiContactRepository, MwiContactUriSchema, type MwiContact } from './mwi-contacts.js';
