/** Pure CIDR helpers and shared argument validation of the cloud components (no stand-ins needed). */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
    contains,
    formatCidr,
    formatIpv4,
    hostAddress,
    isAnywhere,
    isIpv6Cidr,
    nthSubnet,
    overlaps,
    parseIpv4Cidr,
    prefixMask,
    size,
} from '../../../components/cloud/cidr.js';
import { CloudArgsError, costTagMap, requireRestrictedCidrs, validateCostTags } from '../../../components/cloud/validate.js';

const cidrArb = fc.tuple(fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 })).map(([addr, prefix]) => ({ address: (addr & prefixMask(prefix)) >>> 0, prefix }));

describe('cloud/cidr: IPv4 helpers', () => {
    it('parse . format round-trips every network (property)', () => {
        fc.assert(fc.property(cidrArb, (c) => assert.deepEqual(parseIpv4Cidr(formatCidr(c)), c)));
    });

    it('refuses malformed CIDRs and set host bits', () => {
        for (const bad of ['10.0.0.1/16', '256.0.0.0/8', '10.0.0.0/33', '10.0.0/8', '10.0.0.0', 'a.b.c.d/8', '10.0.0.0/-1', '']) {
            assert.equal(parseIpv4Cidr(bad), undefined, bad);
        }
        assert.deepEqual(parseIpv4Cidr(' 10.0.0.0/8 '), { address: 0x0a000000, prefix: 8 });
    });

    it('nthSubnet: every child lies inside its parent, siblings are disjoint and tile the parent (property)', () => {
        fc.assert(fc.property(cidrArb.filter((c) => c.prefix <= 28), fc.integer({ min: 0, max: 4 }), (parent, extra) => {
            const prefix = Math.min(32, parent.prefix + extra);
            const count = 2 ** (prefix - parent.prefix);
            const kids = Array.from({ length: count }, (_, i) => nthSubnet(parent, prefix, i));
            kids.forEach((k) => assert.ok(contains(parent, k)));
            for (let i = 1; i < kids.length; i++) assert.ok(!overlaps(kids[i - 1]!, kids[i]!));
            assert.equal(kids.reduce((n, k) => n + size(k), 0), size(parent));
            assert.throws(() => nthSubnet(parent, prefix, count), RangeError);
        }));
    });

    it('contains/overlaps agree with address arithmetic (property)', () => {
        fc.assert(fc.property(cidrArb, cidrArb, (a, b) => {
            const aEnd = a.address + size(a) - 1;
            const bEnd = b.address + size(b) - 1;
            assert.equal(overlaps(a, b), a.address <= bEnd && b.address <= aEnd);
            assert.equal(contains(a, b), a.address <= b.address && bEnd <= aEnd);
        }));
    });

    it('hostAddress and formatIpv4', () => {
        assert.equal(hostAddress(parseIpv4Cidr('10.10.0.0/24')!, 10), '10.10.0.10');
        assert.throws(() => hostAddress(parseIpv4Cidr('10.10.0.0/30')!, 4), RangeError);
        assert.equal(formatIpv4(0xffffffff), '255.255.255.255');
    });

    it('IPv6 CIDR recognition and "anywhere"', () => {
        for (const ok of ['::/0', '2001:db8::/32', 'fe80::1/128', '2001:0db8:0000:0000:0000:0000:0000:0001/64']) assert.ok(isIpv6Cidr(ok), ok);
        for (const bad of ['2001:db8::/129', '2001:db8:::/32', '2001:db8::', 'g::/8', '1:2:3:4:5:6:7/64', '10.0.0.0/8']) assert.ok(!isIpv6Cidr(bad), bad);
        assert.ok(isAnywhere('0.0.0.0/0'));
        assert.ok(isAnywhere('::/0'));
        assert.ok(!isAnywhere('0.0.0.0/1'));
        assert.ok(!isAnywhere('2001:db8::/32'));
    });
});

describe('cloud/validate: shared argument checks', () => {
    it('requireRestrictedCidrs accepts admin networks and refuses the internet, naming the index (property)', () => {
        fc.assert(fc.property(fc.array(cidrArb.filter((c) => c.prefix >= 8), { minLength: 1, maxLength: 5 }), fc.nat(), (cidrs, at) => {
            const texts = cidrs.map(formatCidr);
            assert.deepEqual(requireRestrictedCidrs('X', 'f', texts), texts);
            const i = at % (texts.length + 1);
            const withWorld = [...texts.slice(0, i), '0.0.0.0/0', ...texts.slice(i)];
            assert.throws(() => requireRestrictedCidrs('X', 'f', withWorld), new RegExp(`X: invalid f\\[${i}\\]: 0\\.0\\.0\\.0/0 opens`));
        }));
        assert.throws(() => requireRestrictedCidrs('X', 'f', undefined), CloudArgsError);
        assert.throws(() => requireRestrictedCidrs('X', 'f', 'not-a-list'), /X: invalid f: a non-empty list/);
    });

    it('cost tags: the three mandatory keys always win over extras', () => {
        assert.deepEqual(costTagMap({ environment: 'e', owner: 'o', costCentre: 'c', extra: { owner: 'spoof', team: 't' } }), { owner: 'o', team: 't', environment: 'e', 'cost-centre': 'c' });
        assert.throws(() => validateCostTags('X', { environment: 'e', owner: 'o' }, false), /X: invalid tags\.costCentre/);
        assert.throws(() => validateCostTags('X', { environment: 'e', owner: 'o', costCentre: 'c', extra: { k: 1 } }, false), /tags\.extra/);
        assert.throws(() => validateCostTags('X', { environment: 'e', owner: 'o', costCentre: 'c', extra: { 'bad key': 'v' } }, true), /tags\.extra\.bad key: label key/);
        assert.doesNotThrow(() => validateCostTags('X', { environment: 'e', owner: 'o', costCentre: 'c', extra: { 'bad key': 'v w' } }, false));
    });
});
