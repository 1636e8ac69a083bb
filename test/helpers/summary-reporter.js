'use strict';
/**
 * Prints the plain closing line CI reads ("tests: N passed, N failed, N skipped") for a single jest run, or, under
 * scripts/test.js (REPONDEUR_TEST_SUMMARY set), appends the counts for it to add up across runs.
 */
const { appendFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests, numRuntimeErrorTestSuites } = results;
    const counts = { passed: numPassedTests, failed: numFailedTests + numRuntimeErrorTestSuites, skipped: numPendingTests + numTodoTests };
    if (process.env.REPONDEUR_TEST_SUMMARY) appendFileSync(process.env.REPONDEUR_TEST_SUMMARY, JSON.stringify(counts) + '\n');
    else process.stdout.write(`\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
