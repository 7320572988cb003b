// Regenerates objecthash_vectors.json with the real npm object-hash:
//   npm install object-hash@3 && node objecthash_vectors.js > objecthash_vectors.json
// "json" is the input as JavaScript sees it after JSON.parse; "preimage" is the
// text object-hash feeds into SHA-1.
const oh = require('object-hash');
const cases = [
  ['ref-1', ['.ds-logs-test-2024.01.01-000001', 'doc-1', 'undefined', 'default:8f2a-rule-so-id', ['host-1']]],
  ['ref-2', ['.ds-logs-test-2024.01.01-000001', 'doc-1', 'undefined', 'default:8f2a-rule-so-id', ['host-1', 443, null]]],
  ['ref-3', ['idx', 'id1', 'undefined', 'default:rule-so-uuid', ['user-0', false]]],
  ['ref-4', ['idx', 'id1', 'undefined', 'default:rule-so-uuid', ['user-0', 1]]],
  ['e-acute', ['idx', 'id1', 'undefined', 'default:r', ['café']]],
  ['emoji', ['idx', 'id1', 'undefined', 'default:r', ['😀 x']]],
  ['non-ascii-everywhere', ['índex-ü', 'ид', 'undefined', 'espace:règle', ['日本語']]],
  ['floats', ['idx', 'id1', 'undefined', 'default:r', [0.1, 1.5, -2.25]]],
  ['big-and-tiny', ['idx', 'id1', 'undefined', 'default:r', [1e21, 1e-7, 123456789012345678, -0, 9007199254740993]]],
  ['exponent-edges', ['idx', 'id1', 'undefined', 'default:r', [1e20, 123e-20, 0.000001, 1.7976931348623157e308, 5e-324]]],
  ['negatives', ['idx', 'id1', 'undefined', 'default:r', [-1, -1e-7, -1e21, 100, 2.5e25]]],
  ['booleans-null', ['idx', 'id1', 'undefined', 'default:r', [true, false, null]]],
  ['empty-terms', ['idx', 'id1', 'undefined', 'default:r', []]],
  ['empty-strings', ['', '', 'undefined', ':', ['']]],
];
const out = cases.map(([name, v]) => {
  let pre = '';
  oh.writeToStream(v, { write: (s) => { pre += s; } });
  return { name, json: JSON.stringify(v), preimage: pre, sha1: oh(v) };
});
console.log(JSON.stringify(out, null, 1));
