import pino, { type Logger } from 'pino';

export type { Logger };

/** The process logger: pino JSON on stdout. Calls get a child carrying their Call-ID. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { app: 'repondeur' } }, destination ?? pino.destination({ sync: false }));
}
