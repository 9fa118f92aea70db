import { describe, expect, it } from 'vitest';
import { maskTokens, maskVariables } from '../src/logs/mask.js';

describe('variable masking', () => {
  it.each([
    ['pod="default/web-7d4b9c8f6d-x2k9p" podUID="3f2c1e9a-1b2c-4d5e-8f90-a1b2c3d4e5f6"', 'pod="default/<POD>" podUID="<UID>"'],
    ['image "nginx:1.25" after 30s and 1m30s', 'image "nginx:<NUM>" after <DUR> and <DUR>'],
    ['dial tcp 10.244.1.12:8080 and [fe80::1]:443', 'dial tcp <IP> and [<IP>]:<NUM>'],
    ['Started cri-containerd-4f8e2b1c9d7a6e5f4f8e2b1c9d7a6e5f4f8e2b1c9d7a6e5f4f8e2b1c9d7a6e5f.scope', 'Started cri-containerd-<ID>.scope'],
    ['name:"sha256:5158dadc58060a3e8a37b0b688dbc64b448602ef41bde5b9a355038ec3f59879"', 'name:"<ID>"'],
    ['Killed process 1234 (java) total-vm:123456kB, flags 0x1f', 'Killed process <NUM> (java) total-vm:<NUM>, flags <HEX>'],
    ['kube-proxy-xkzpq on kube-system with eth0', '<POD> on kube-system with eth0'],
    ['at 2026-11-27T03:44:01.123Z limit 512Mi used 93%', 'at <TIME> limit <NUM> used <NUM>'],
  ])('%s', (input, expected) => {
    expect(maskVariables(input)).toBe(expected);
  });

  it('tokenizes from an offset and collapses runs of whitespace', () => {
    expect(maskTokens('HEADER:  a  7\tb ', 7)).toEqual(['a', '<NUM>', 'b']);
    expect(maskTokens('')).toEqual([]);
  });
});

// The hot path settles ids, UUIDs, hex and numbers by character shape before the regex chain: these
// are the shapes where the order of that chain decides (a hex-looking word that is really a byte count
// or a duration), pinned to what the chain alone answered so a shortcut cannot answer differently.
describe('variable masking: word shapes settled without the regex chain', () => {
  it.each([
    ['8720274b', '<NUM>'], // digits + b: a byte count, not hex
    ['1234567d', '<DUR>'], // digits + d: days
    ['1234567a', '<HEX>'],
    ['12345678', '<NUM>'],
    ['deadbeef1', '<HEX>'],
    ['0xDEADbeef', '<HEX>'],
    ['0x', '0x'],
    ['3F2C1E9A-1B2C-4D5E-8F90-A1B2C3D4E5F6', '<UID>'],
    ['3f2c1e9a-1b2c-4d5e-8f90-a1b2c3d4e5fg', '<HEX>-1b2c-4d5e-8f90-a1b2c3d4e5fg'],
    ['a'.repeat(31) + '1', '<ID>'],
    ['a'.repeat(63) + '1', '<ID>'],
    ['a'.repeat(64) + '1', '<HEX>'],
    ['A'.repeat(31) + '1', 'A'.repeat(31) + '1'],
    ['payments/worker-bngz9', 'payments/<POD>'],
    ['payments_worker-bngz9', 'payments_worker-bngz9'],
    // Settled at the word's end from its alphabet and length (quickClass), pinned to the chain's answers.
    ['1'.repeat(70), '<NUM>'],
    ['1'.repeat(33), '<ID>'],
    ['abcdefab-abcd-abcd-abcd-abcdefabcdef', 'abcdefab-abcd-abcd-abcd-abcdefabcdef'], // no digit: not a UID here
    ['3f2c1e9a-1b2c-4d5e-8f90-a1b2c3d4e5f6.', '<UID>.'],
    ['3f2c1e9a1b2c-4d5e-8f90-a1b2-c3d4e5f6', '<HEX>-4d5e-8f90-a1b2-<HEX>'],
    ['1a2b3c4db', '<HEX>'],
    ['12345678d', '<DUR>'],
    ['abcdef12d', '<HEX>'],
    ['12ab', '12ab'],
    // dottedShape: a dotted quad and "ms"/"s" durations, pinned to the chain's answers.
    ['10.244.8.71', '<IP>'],
    ['01.02.03.04', '<IP>'],
    ['1234.2.3.4', '<NUM>.<NUM>.<NUM>.<NUM>'],
    ['1.2.3.4.5', '<NUM>.<NUM>.<NUM>.<NUM>.<NUM>'],
    ['1.2.3', '<NUM>.<NUM>.<NUM>'],
    ['481.762ms', '<DUR>'],
    ['0.5s', '<DUR>'],
    ['1.2.3s', '<NUM>.<NUM>.<DUR>'],
    ['5m', '<NUM>'],
    ['5.s', '<NUM>.s'],
    ['12ms3', '12ms3'],
  ])('%s → %s', (input, expected) => {
    // Twice: the second answer comes from the memo of masked words.
    expect(maskVariables(input)).toBe(expected);
    expect(maskVariables(input)).toBe(expected);
  });
});

describe('variable masking: the word memo', () => {
  it('answers a word from the memo exactly as it did the first time (admitted on its second sighting, 2-way slots, hash collisions checked on the text)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-./:_';
    const words: string[] = [];
    for (let i = 0; i < 30000; i++) {
      let w = String(rnd(10));
      const len = 2 + rnd(i % 10 === 0 ? 80 : 20);
      for (let k = 0; k < len; k++) w += alphabet[rnd(alphabet.length)];
      words.push(w);
    }
    const first = words.map((w) => maskVariables(`x ${w} y`));
    words.forEach((w) => maskVariables(`x ${w} y`)); // second sighting: admitted
    const third = words.map((w) => maskVariables(`x ${w} y`));
    expect(third).toEqual(first);
    expect(first.filter((m, i) => m !== `x ${words[i]} y`).length).toBeGreaterThan(5000);
  });
});
