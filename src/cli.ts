/**
 * The `repondeur` command line: `serve` runs the engine; operator sub-commands manage lines and messages.
 */
import { loadConfig } from './config/load.js';
import { startServer } from './server.js';
import { OPERATOR_USAGE, runOperatorCommand } from './cli/operator.js';

const USAGE = `usage: repondeur <command>

  serve                      run the voicemail engine (SIP, RTP, API) with the configuration
                             from config/default.json, $REPONDEUR_CONFIG and REPONDEUR_* variables
`;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const config = loadConfig();
      const server = await startServer(config);
      const stop = (signal: string): void => {
        server.logger.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      return;
    }
    case 'line':
    case 'messages':
    case 'auth':
    case 'outbox':
    case 'retention': {
      const code = await runOperatorCommand(argv, loadConfig());
      process.exitCode = code;
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n' + OPERATOR_USAGE);
      return;
    default:
      void rest;
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}
