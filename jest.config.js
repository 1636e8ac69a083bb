/** @type {import('jest').Config} */
const tsJestForEsmDeps = [
  'ts-jest',
  {
    tsconfig: { allowJs: true, module: 'commonjs', moduleResolution: 'node10', target: 'ES2022', esModuleInterop: true },
    diagnostics: false,
  },
];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: false }],
    // kysely 0.29 is published as ES modules only; jest (CommonJS) needs it transpiled.
    '/node_modules/kysely/.+\\.js$': tsJestForEsmDeps,
  },
  transformIgnorePatterns: ['/node_modules/(?!kysely/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
};
