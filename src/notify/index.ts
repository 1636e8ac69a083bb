export { NotificationWorker, NotificationConfigError, type NotificationStore, type NotificationWorkerOptions } from './worker.js';
export { buildNotificationMail, jobMessageId, senderFor, type NotificationMailInput, type Sender } from './compose.js';
export {
  attachmentFilename,
  displayNumber,
  formatDuration,
  formatMessageDate,
  renderNotification,
  NOTIFICATION_TIME_ZONE,
  type MessageFacts,
  type RecordingState,
  type RenderedNotification,
} from './templates.js';
export { retryDelayMs, DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff.js';
export {
  EmlFileTransport,
  SmtpMailTransport,
  MailTransportConfigError,
  DEFAULT_SMTP_TIMEOUTS,
  describeSendError,
  isPermanentRejection,
  parseSmtpUrl,
  type MailDelivery,
  type MailTransport,
  type SmtpTimeouts,
} from './transports.js';
