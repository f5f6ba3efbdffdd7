// Lets a child process started by a test run TypeScript sources (node -r ./test/support/ts-register.js x.ts).
require('../../src/util/register-ts.js');
