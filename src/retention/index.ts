export { RetentionSweeper, RetentionConfigError, type RetentionSweeperOptions } from './sweeper.js';
