import { SignJWT } from 'jose';
import { TokenVerifier } from '../src/auth/token-verifier';

/**
 * Verified tokens are remembered (a client sends the same one with every request), but a
 * remembered token still stops working when it expires, and nothing but the exact token
 * verified is ever taken from memory.
 */
const secret = new TextEncoder().encode('token-cache-test-secret-0123456789abcdef');
const sign = (sub: string, exp: number, key = secret) =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime(exp).sign(key);

afterEach(() => jest.useRealTimers());

test('a remembered token is refused once it has expired', async () => {
  const verifier = new TokenVerifier({ kind: 'secret', secret });
  const start = Date.now();
  const exp = Math.floor(start / 1000) + 60;
  const token = await sign('alice', exp);
  expect((await verifier.verify(token)).id).toBe('alice');
  expect((await verifier.verify(token)).id).toBe('alice');
  // Only the clock is faked: jose's promises and timers stay real.
  jest.useFakeTimers({
    doNotFake: [
      'nextTick',
      'setImmediate',
      'setTimeout',
      'setInterval',
      'clearTimeout',
      'clearInterval',
      'clearImmediate',
      'queueMicrotask',
      'hrtime',
      'performance',
    ],
  });
  jest.setSystemTime(exp * 1000 + 4_000); // within the 5 s leeway
  expect((await verifier.verify(token)).id).toBe('alice');
  jest.setSystemTime(exp * 1000 + 6_000);
  await expect(verifier.verify(token)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' }, message: 'The token has expired' });
});

test('a token that differs from a remembered one in any way is verified, and a forged one refused', async () => {
  const verifier = new TokenVerifier({ kind: 'secret', secret });
  const exp = Math.floor(Date.now() / 1000) + 600;
  const good = await sign('alice', exp);
  await verifier.verify(good);
  const forged = await sign('alice', exp, new TextEncoder().encode('another-secret-another-secret-0123456789'));
  await expect(verifier.verify(forged)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  const [header, payload, signature] = good.split('.') as [string, string, string];
  const tampered = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
  await expect(verifier.verify(tampered)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  expect((await verifier.verify(good)).id).toBe('alice');
});
