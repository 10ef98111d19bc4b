// Regenerates mamba-core/src/test/resources/tokenizer/hf-crosscheck.json: encodings and decodings
// computed by the Hugging Face tokenizers library (its Node binding, npm package "tokenizers",
// which wraps the same Rust crate as the Python package) for variants of the golden byte-level
// BPE tokenizer, on hand-written edge cases and seeded random text.
//
//   npm install tokenizers@0.23.2     (in some scratch directory; add it to NODE_PATH)
//   node mamba-core/src/test/scripts/make_tokenizer_crosscheck.js
//
// Each variant is the golden tokenizer.json with some top-level keys (and model keys) replaced;
// BpeTokenizerCrosscheckTest applies the same replacements and must reproduce every case exactly.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

const root = path.resolve(__dirname, '..', 'resources');
const base = JSON.parse(fs.readFileSync(path.join(root, 'golden/tokenizer/tokenizer.json'), 'utf8'));
const vocab = base.model.vocab;

// xorshift32: the same random text on every run.
let seed = 0x9E3779B9 >>> 0;
function rnd() {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];

function added(id, content, opts) {
  if (content in vocab) throw new Error('already in vocab: ' + content);
  return Object.assign({ id, content, single_word: false, lstrip: false, rstrip: false,
    normalized: false, special: false }, opts);
}

const extraTokens = [
  added(1200, '<|im_start|>', { special: true }),
  added(1201, '[MASK]', { special: true, lstrip: true, rstrip: true }),
  added(1202, 'zq', { single_word: true }),
  added(1203, 'e\u0301!', { normalized: true }),
  added(1204, '    ', { normalized: true }),
  added(1205, '\t\t', { normalized: true }),
  added(1206, '<|end|>', { special: true }),
  added(1207, '<|e', { special: true }),
  added(1208, '<pad token>', { special: true }),
  added(1209, '\u0120zz', {}),
];

const variants = [
  { name: 'golden', set: {}, model_set: {} },
  { name: 'added-tokens', set: { added_tokens: base.added_tokens.concat(extraTokens) }, model_set: {} },
  { name: 'prefix-space-nfkc', set: {
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }] },
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true } },
    model_set: {} },
  { name: 'no-regex-ignore-merges', set: {
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false } },
    model_set: { ignore_merges: true } },
  { name: 'template-bos-eos', set: {
      post_processor: { type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|padding|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
                 { SpecialToken: { id: '<|endoftext|>', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: {
          '<|padding|>': { id: '<|padding|>', ids: [1], tokens: ['<|padding|>'] },
          '<|endoftext|>': { id: '<|endoftext|>', ids: [0], tokens: ['<|endoftext|>'] } } } },
    model_set: {} },
];

// Characters that have had the same Unicode properties for many versions, so that Java's and the
// Rust crate's Unicode tables agree on them.
const pools = {
  ascii: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''),
  punct: "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".split(''),
  contractions: ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'x", "''", "'"],
  space: [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\u000B', '\f', '\u0085', '\u00A0', '\u2003', '\u2009',
          '\u2028', '\u2029', '\u3000', '\u001C', '\u001F', '\u200B', '      '],
  latin: 'àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿĀāĂăĄąĆćŒœŠšŸŽžƒ'.split(''),
  combining: ['\u0301', '\u0300', '\u0308', '\u0323', '\u0338', '\u0327', '\u030A', '\u0342', '\u0345'],
  hangul: ['\u1100', '\u1161', '\u11A8', '\uAC00', '\uD55C', '\u1112', '\u1173'],
  cjk: '你好世界中文字漢字日本語のカタカナひらがな한국어'.split(''),
  numbers: ['٣', '०', '３', 'Ⅻ', '½', '²', '①', '〇', '𝟙'],
  emoji: ['😀', '🚀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '🧪', '\u2764'],
  symbols: ['€', '©', '™', '→', '∑', '√', '∞', '§', '¶', '\u00AD', '\uFEFF', '\uFFFD', '\uE000', '\u0000',
            '\u007F', '\u0378', '\uFFFF', 'ﬁ', 'Å', 'K', 'Ω', '𝐀', '𐍈', '\u{10FFFD}'],
  specials: ['<|endoftext|>', '<|padding|>', '<|end', '|>', '<|', '<|im_start|>', '[MASK]', 'zq', 'e\u0301!',
             '<|end|>', '<pad token>', '\u0120zz', 'endoftext'],
};
const poolNames = Object.keys(pools);

function randomText(maxParts) {
  const n = 1 + Math.floor(rnd() * maxParts);
  let s = '';
  for (let i = 0; i < n; i++) {
    const p = pools[pick(poolNames)];
    const reps = rnd() < 0.3 ? 1 + Math.floor(rnd() * 6) : 1;
    for (let r = 0; r < reps; r++) s += pick(p);
  }
  return s;
}

const handWritten = [
  '', ' ', '  ', '\n', 'a', "'", "'s", "I'm", "it's", "'S'", "don''t", "?'s", ".'ll", " 's", "x 'll",
  'hello   world', 'hello \tworld', 'a\u00A0b', 'end   ', '   ', ' \n ', '\n\n\nx', '\u3000x', 'x\u2028y',
  'e\u0301', 'E\u0301cole', '\u1100\u1161\u11A8', 'A\u030A', '>\u0338', '<|endoftext|>\u0338', 'a<|endoftext|>b',
  '<|endoftext|><|endoftext|>', '<|endoftext|', '<|padding|><|endoftext|>', ' <|endoftext|> ',
  'x [MASK] y', 'x[MASK]y', '  [MASK]  ', 'zq', 'xzq', 'zq!', 'a zq b', 'zqzq', 'é!', 'e\u0301!', 'cafe\u0301!',
  '<|e', '<|end|>', '<|endoftext|>', '<|end|>oftext', 'a    b', 'a     b', '\t\t\t', '<pad token>', '\u0120zz zz',
  '123456789012345', '3.14', '-42', '١٢٣', 'Ⅻ½²', 'naïve café', 'ﬁnal', '𝐀𝐁𝐂', '😀😀😀', '👨‍👩‍👧',
  'MixedCASE', 'https://example.org/a?b=c&d', '\u0000\u0001\u007F', '\uFEFFbom', '\u00ADsoft',
  // Unpaired surrogates: the binding turns each into U+FFFD, as BpeTokenizer does.
  '\uD800', 'a\uDC00b', '\uDFFF\uD800', '\u{1F600}\uD83D\u{1F600}', 'x\uD83D',
  'x'.repeat(300), ' '.repeat(300), 'ab'.repeat(200), '\u00E9'.repeat(100), '你'.repeat(150),
];

// GPT-2's byte -> character table, to find the token of each single byte.
function byteTokenIds() {
  const bs = [];
  for (let b = 0x21; b <= 0x7E; b++) bs.push(b);
  for (let b = 0xA1; b <= 0xAC; b++) bs.push(b);
  for (let b = 0xAE; b <= 0xFF; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  const ids = new Array(256);
  bs.forEach((b, i) => { ids[b] = vocab[String.fromCodePoint(cs[i])]; });
  return ids;
}

// Ill-formed UTF-8 whose U+FFFD count differs between decoders that do and do not follow the
// "maximal subpart" practice (the examples of Unicode 3.9 among them), and truncated characters.
const byteSequences = [
  [0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64],
  [0xC0, 0xAF, 0xE0, 0x80, 0xBF, 0xF0, 0x81, 0x82, 0x41],
  [0xED, 0xA0, 0x80, 0xED, 0xBF, 0xBF, 0xED, 0xAF, 0x41],
  [0xF4, 0x91, 0x92, 0x93, 0xFF, 0x41, 0x80, 0xBF, 0x42],
  [0xE1, 0x80, 0xE2, 0xF0, 0x91, 0x92, 0xF1, 0xBF, 0x41],
  [0xED, 0x9F, 0xBF], [0xED, 0xA0], [0xEE, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
  [0xF0, 0x90, 0x80], [0xF0, 0x9F, 0x98], [0xE4, 0xBD], [0xC3], [0xC3, 0xC3, 0xA9], [0xFE, 0xFF], [0xF5, 0x80],
  [0xEF, 0xBB, 0xBF], [0xEF, 0xBF, 0xBD], [0x00, 0x7F, 0x80],
];

async function main() {
  const out = { generator: 'tokenizers (npm) ' + require('tokenizers/package.json').version,
                variants: [] };
  for (const v of variants) {
    const json = JSON.parse(JSON.stringify(base));
    for (const [k, val] of Object.entries(v.set)) json[k] = val;
    for (const [k, val] of Object.entries(v.model_set)) json.model[k] = val;
    const tok = Tokenizer.fromString(JSON.stringify(json));
    const texts = handWritten.slice();
    for (let i = 0; i < 250; i++) texts.push(randomText(i < 200 ? 12 : 60));
    const cases = [];
    for (const text of texts) {
      const enc = await tok.encode(text);
      const ids = Array.from(enc.getIds());
      cases.push({ text, ids, decoded: await tok.decode(ids, false) });
    }
    const decodes = [];
    const size = tok.getVocabSize(true);
    for (let i = 0; i < 150; i++) {
      const n = Math.floor(rnd() * 12);
      const ids = [];
      for (let k = 0; k < n; k++) {
        // Mostly single-byte tokens above 0x7F, to build invalid and truncated UTF-8.
        ids.push(rnd() < 0.6 ? 2 + Math.floor(rnd() * 254) : Math.floor(rnd() * size));
      }
      decodes.push({ ids, decoded: await tok.decode(ids, false) });
    }
    const byteIds = byteTokenIds();
    for (const seq of byteSequences) {
      const ids = seq.map((b) => byteIds[b]);
      decodes.push({ ids, decoded: await tok.decode(ids, false) });
    }
    out.variants.push({ name: v.name, set: v.set, model_set: v.model_set, vocab_size: size, cases, decodes });
  }
  const file = path.join(root, 'tokenizer/hf-crosscheck.json');
  fs.writeFileSync(file, JSON.stringify(out) + '\n');
  console.log('wrote', file, fs.statSync(file).size, 'bytes');
}
main().catch((e) => { console.error(e); process.exit(1); });
