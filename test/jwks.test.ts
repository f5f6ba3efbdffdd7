import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { signDevToken } from '../src/auth/dev-token';
import { ConfigError, loadConfig } from '../src/config';
import { apiSuite } from './support/api-suite';
import { postGraphQL, TEST_JWT_SECRET, type TestServer } from './support/test-server';

/**
 * JWKS_URL against a real key set served over HTTP by this test, and JWT_ISSUER / JWT_AUDIENCE
 * on both verification paths. Every refusal must be UNAUTHENTICATED with HTTP 401.
 */
const ISSUER = 'https://idp.example.test/tenant-a';
const AUDIENCE = 'jobwatch-api';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
let rsa: KeyPair;
let ec: KeyPair;
let stranger: KeyPair;
let jwks: Server;
let jwksRequests = 0;
async function publicJwk(pair: KeyPair, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
}

/** Generates the keys and serves their public half as a key set: answers its URL. */
async function startJwks(): Promise<string> {
  [rsa, ec, stranger] = await Promise.all([generateKeyPair('RS256'), generateKeyPair('ES256'), generateKeyPair('RS256')]);
  const body = JSON.stringify({ keys: [await publicJwk(rsa, 'rsa-1', 'RS256'), await publicJwk(ec, 'ec-1', 'ES256')] });
  jwks = createServer((request, response) => {
    jwksRequests += 1;
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const { port } = jwks.address() as AddressInfo;
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

const suite = apiSuite({
  // JWT_SECRET stays set (startTestServer sets it): with JWKS_URL, HS256 tokens must still fail.
  env: async () => ({ JWKS_URL: await startJwks(), JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE }),
  grants: [],
});
// After the suite's afterAll, as the servers are closed.
afterAll(async () => {
  await new Promise((resolve) => jwks?.close(resolve));
});

interface Claims {
  iss?: string | null;
  aud?: string | string[] | null;
  sub?: string;
}

/** A token with the expected claims unless overridden (null leaves the claim out). */
function build(claims: Claims = {}): SignJWT {
  const jwt = new SignJWT({ name: 'Ada' })
    .setSubject(claims.sub ?? 'ada')
    .setIssuedAt()
    .setExpirationTime('10m');
  const iss = claims.iss === undefined ? ISSUER : claims.iss;
  const aud = claims.aud === undefined ? AUDIENCE : claims.aud;
  if (iss !== null) jwt.setIssuer(iss);
  if (aud !== null) jwt.setAudience(aud);
  return jwt;
}

const rs256 = (claims?: Claims, key = rsa.privateKey, kid = 'rsa-1') => build(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);

async function me(bearer: string) {
  return postGraphQL<{ me: { id: string; name: string | null } }>(suite.server.url, bearer, '{ me { id name } }');
}

async function expectUnauthenticated(bearer: string, message?: RegExp) {
  const response = await me(bearer);
  expect(response.status).toBe(401);
  expect(response.errors?.map((error) => error.extensions?.['code'])).toEqual(['UNAUTHENTICATED']);
  if (message !== undefined) expect(response.errors?.[0]?.message).toMatch(message);
  expect(JSON.stringify(response)).not.toMatch(/\bat .+\.(ts|js):\d+/);
}

test('an RS256 token from a key in the set, with the right issuer and audience, is accepted', async () => {
  const response = await me(await rs256());
  expect(response.errors).toBeUndefined();
  expect(response.data?.me).toEqual({ id: 'ada', name: 'Ada' });
  expect(jwksRequests).toBeGreaterThan(0);
});

test('an ES256 token from the other key of the set is accepted; an audience list naming ours is too', async () => {
  const es = await build({ aud: ['another-api', AUDIENCE] })
    .setProtectedHeader({ alg: 'ES256', kid: 'ec-1' })
    .sign(ec.privateKey);
  const response = await me(es);
  expect(response.errors).toBeUndefined();
  expect(response.data?.me.id).toBe('ada');
});

test('a token signed by a key that is not in the set', async () => {
  // Claiming the kid of a trusted key, and claiming a kid the set does not have.
  await expectUnauthenticated(await rs256({}, stranger.privateKey, 'rsa-1'), /bad signature/);
  await expectUnauthenticated(await rs256({}, stranger.privateKey, 'rsa-unknown'), /no matching key/);
});

test.each([
  ['a wrong issuer', { iss: 'https://idp.example.test/tenant-b' }, /wrong issuer/],
  ['no issuer', { iss: null }, /issuer/],
  ['a wrong audience', { aud: 'another-api' }, /wrong audience/],
  ['an audience list without ours', { aud: ['another-api', 'third-api'] }, /wrong audience/],
  ['no audience', { aud: null }, /audience/],
])('a token with %s', async (_label, claims, message) => {
  await expectUnauthenticated(await rs256(claims), message);
});

test('an HS256 token, signed with JWT_SECRET or with the public key, is refused when JWKS_URL is set', async () => {
  const withSecret = await build().setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_JWT_SECRET));
  await expectUnauthenticated(withSecret, /algorithm not allowed/);
  // The classic confusion: the public key's PEM used as an HMAC secret.
  const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
  await expectUnauthenticated(await build().setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(pem), /algorithm not allowed/);
});

test('npm run token refuses to sign when JWKS_URL is set', async () => {
  await expect(signDevToken(suite.server.services.config, 'ada', { ttl: '1h' })).rejects.toThrow(/JWKS_URL/);
});

describe('JWT_ISSUER and JWT_AUDIENCE with HS256', () => {
  let hs: TestServer;
  const secret = new TextEncoder().encode(TEST_JWT_SECRET);

  beforeAll(async () => {
    hs = await suite.startServer({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
  });
  afterAll(async () => {
    await hs?.close();
  });

  const hsMe = async (bearer: string) => postGraphQL<{ me: { id: string } }>(hs.url, bearer, '{ me { id } }');

  test('the right issuer and audience pass; a wrong or missing one is UNAUTHENTICATED', async () => {
    const good = await hsMe(await build().setProtectedHeader({ alg: 'HS256' }).sign(secret));
    expect(good.errors).toBeUndefined();
    expect(good.data?.me.id).toBe('ada');
    for (const claims of [{ iss: 'https://elsewhere.test' }, { iss: null }, { aud: 'another-api' }, { aud: null }]) {
      const response = await hsMe(await build(claims).setProtectedHeader({ alg: 'HS256' }).sign(secret));
      expect([claims, response.status, response.errors?.[0]?.extensions?.['code']]).toEqual([claims, 401, 'UNAUTHENTICATED']);
    }
  });

  test('npm run token signs what this server expects', async () => {
    const bearer = await signDevToken(hs.services.config, 'ada', { name: 'Ada', ttl: '5m' });
    const response = await hsMe(bearer);
    expect(response.errors).toBeUndefined();
    expect(response.data?.me.id).toBe('ada');
  });
});

test.each([
  ['JWT_ISSUER', 'with a space', 'has spaces'],
  ['JWT_AUDIENCE', 'of 501 characters', 'x'.repeat(501)],
  ['JWT_AUDIENCE', 'with a tab', 'tab\there'],
])('%s %s stops the server at start', (name, _label, value) => {
  expect(() => loadConfig({ NODE_ENV: 'test', [name]: value })).toThrow(ConfigError);
  expect(() => loadConfig({ NODE_ENV: 'test', [name]: value })).toThrow(name);
});
