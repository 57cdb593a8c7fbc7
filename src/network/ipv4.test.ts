import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contains, formatIPv4, formatSubnet, macForAddress, overlaps, parseIPv4, parseSubnet } from './ipv4.js';

test('subnets normalise to their network and compare by range', () => {
  const bip = parseSubnet('172.18.0.1/16');
  assert.equal(formatSubnet(bip), '172.18.0.0/16');
  assert.ok(contains(bip, parseIPv4('172.18.255.254')));
  assert.ok(!contains(bip, parseIPv4('172.19.0.1')));
  assert.ok(overlaps(bip, parseSubnet('172.18.5.0/24')));
  assert.ok(!overlaps(bip, parseSubnet('172.19.0.0/16')));
  assert.equal(formatIPv4(parseIPv4('10.0.0.255')), '10.0.0.255');
});

test('bad addresses and prefixes are refused with the value named', () => {
  assert.throws(() => parseSubnet('300.1.1.1/16'), /invalid IPv4 address: 300.1.1.1/);
  assert.throws(() => parseSubnet('10.0.0.0'), /invalid subnet 10.0.0.0/);
});

test('MAC addresses are Docker\'s 02:42 prefix and the IPv4 bytes', () => {
  assert.equal(macForAddress(parseIPv4('172.17.0.2')), '02:42:ac:11:00:02');
});
