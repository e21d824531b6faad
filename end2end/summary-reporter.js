// Prints one plain closing line, "e2e: N passed, N failed", that CI can read whatever the runner.
export default class SummaryReporter {
  constructor() {
    this.passed = 0;
    this.failed = 0;
  }

  onTestEnd(test, result) {
    if (result.status === 'passed') this.passed += 1;
    else if (result.status !== 'skipped') this.failed += 1;
  }

  onEnd() {
    console.log(`e2e: ${this.passed} passed, ${this.failed} failed`);
  }
}
