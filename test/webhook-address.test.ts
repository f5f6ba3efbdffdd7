import { isPublicAddress, publicAddresses } from '../src/alerts/webhook-address';
import { ConfigError, loadConfig } from '../src/config';
import { TEST_JWT_SECRET, TEST_SECRETS_KEY } from './support/test-server';

/** Which addresses webhooks may reach when ALERT_ALLOW_PRIVATE_NETWORKS is off, and its defaults. */
describe('isPublicAddress', () => {
  test.each([
    ['127.0.0.1', false],
    ['127.255.0.9', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false], // cloud metadata
    ['100.64.0.1', false], // carrier-grade NAT
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['198.18.0.1', false],
    ['::', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false], // IPv4-mapped, dotted
    ['::ffff:7f00:1', false], // IPv4-mapped, hex
    ['::ffff:a9fe:a9fe', false], // 169.254.169.254, mapped
    ['64:ff9b::10.0.0.1', false], // NAT64 of a private address
    ['2002:a00:1::1', false], // 6to4 of 10.0.0.1
    ['fe80::1', false],
    ['fd12:3456::1', false],
    ['ff02::1', false],
    ['not an address', false],
    ['8.8.8.8', true],
    ['93.184.216.34', true],
    ['172.32.0.1', true], // just outside 172.16/12
    ['::ffff:8.8.8.8', true],
    ['64:ff9b::8.8.8.8', true],
    ['2606:4700:4700::1111', true],
  ])('%s: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  test('a name is resolved and every address it has is checked', async () => {
    await expect(publicAddresses('localhost')).rejects.toThrow(/private, loopback or link-local/);
    await expect(publicAddresses('127.0.0.1')).rejects.toThrow(/private, loopback or link-local/);
    await expect(publicAddresses('93.184.216.34')).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
  });
});

describe('ALERT_ALLOW_PRIVATE_NETWORKS', () => {
  const production = { NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET, SECRETS_KEY: TEST_SECRETS_KEY };
  test('off by default in production, on in development and tests (the loopback receivers), settable either way', () => {
    expect(loadConfig(production).alerts.allowPrivateNetworks).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).alerts.allowPrivateNetworks).toBe(true);
    expect(loadConfig({}).alerts.allowPrivateNetworks).toBe(true);
    expect(loadConfig({ ...production, ALERT_ALLOW_PRIVATE_NETWORKS: 'true' }).alerts.allowPrivateNetworks).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test', ALERT_ALLOW_PRIVATE_NETWORKS: 'false' }).alerts.allowPrivateNetworks).toBe(false);
    expect(() => loadConfig({ ALERT_ALLOW_PRIVATE_NETWORKS: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ ALERT_ALLOW_PRIVATE_NETWORKS: 'maybe' })).toThrow(/ALERT_ALLOW_PRIVATE_NETWORKS/);
  });
});
