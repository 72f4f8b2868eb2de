// Looks for card numbers (PANs) in files:
//   node pan_scan.mjs --cards TRANSCRIPT... --scan FILE... [--optional FILE...]
//
// What it finds, in each file, binary or not:
// - the PANs of the given EMV transcripts (track 2, tag 57, and tag 5A; Luhn-valid or
//   not, as the card holds them), as digits, as packed BCD nibbles (how a card stores
//   them, padded with F) anywhere, and inside base64 or hex text;
// - any run of 13-19 digits (optionally grouped by spaces or hyphens) that passes the
//   Luhn check, except runs starting with 1 (millisecond Unix times, 13 digits, are
//   everywhere; no issuer range of the payment schemes we read starts with 1);
// - any Luhn-valid 13-19-digit PAN starting 2-6 packed as BCD in an EMV tag 5A
//   (application PAN: 5A, length, digits, F pad) or 57 (track 2: 57, length, digits,
//   D separator). BCD outside such a tag is found only for the transcripts' PANs:
//   random binary data (keys, digests) holds Luhn-valid nibble runs too often for a
//   tag-less generic search to be anything but noise;
// - all of the above again inside every run of base64 (standard or URL-safe, decoded at
//   each of the four alignments, so text glued in front does not hide it) and of hex.
// Each finding names how it was stored (ascii, bcd, base64>ascii, hex>bcd ...).
// A --scan file that cannot be read fails the scan (exit 2): an unreadable file is not
// a clean one. --optional files may be absent (a SQLite -wal that is not there), but
// any other error reading them fails too.
// Exit 0 when nothing is found, 1 with the findings (masked), 2 on bad usage, a
// transcript without a PAN, or a file that cannot be read.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const cards = [], scan = [], optional = [];
let into = null;
const usage = () => {
  console.error('usage: pan_scan.mjs --cards FILE... --scan FILE... [--optional FILE...]');
  process.exit(2);
};
for (const a of args) {
  if (a === '--cards') into = cards;
  else if (a === '--scan') into = scan;
  else if (a === '--optional') into = optional;
  else if (into) into.push(a);
  else usage();
}
if (cards.length === 0 || scan.length + optional.length === 0) usage();

const luhn = (digits) => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
};
const mask = (pan) => pan.slice(0, 4) + '…' + pan.slice(-2);
const bcd = (pan) => Buffer.from(pan.length % 2 ? pan + 'F' : pan, 'hex');

// ==== The transcripts' PANs ====

const known = new Set();
for (const file of cards) {
  const hex = readFileSync(file, 'latin1').split('\n')
    .filter((line) => line.startsWith('resp:'))
    .map((line) => line.slice(5).replace(/\s/g, '').toUpperCase()).join('\n');
  for (const m of hex.matchAll(/57[0-9A-F]{2}(\d{13,19})D/g)) known.add(m[1]);
  for (const m of hex.matchAll(/5A[0-9A-F]{2}(\d{13,19})F?/g)) known.add(m[1]);
}
if (known.size === 0) {
  console.error('pan_scan: no card number found in the --cards transcripts: the detector is broken');
  process.exit(2);
}
const knownBcd = [...known].map((pan) => [pan, bcd(pan)]);

// ==== Detectors over one buffer ====

// ASCII digits: the known PANs anywhere, and Luhn-valid runs.
function asciiFindings(buf, how, out) {
  const text = buf.toString('latin1');
  for (const pan of known) {
    const at = text.indexOf(pan);
    if (at >= 0) out.push([how, `the transcript card ${mask(pan)}`, at]);
  }
  for (const m of text.matchAll(/(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])/g)) {
    const digits = m[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && digits[0] !== '1' && luhn(digits))
      out.push([how, `a Luhn-valid ${digits.length}-digit number ${mask(digits)}`, m.index]);
  }
}

// Packed BCD: the known PANs anywhere; any Luhn-valid PAN in a tag 5A or 57.
function bcdFindings(buf, how, out) {
  for (const [pan, packed] of knownBcd) {
    const at = buf.indexOf(packed);
    if (at >= 0) out.push([how, `the transcript card ${mask(pan)}`, at]);
  }
  for (let i = 0; i + 2 < buf.length; i++) {
    const tag = buf[i];
    if (tag !== 0x5a && tag !== 0x57) continue;
    const len = buf[i + 1];
    if (len < 7 || len > (tag === 0x5a ? 10 : 19) || i + 2 + len > buf.length) continue;
    const nibbles = buf.subarray(i + 2, i + 2 + len).toString('hex').toUpperCase();
    const m = tag === 0x5a ? /^(\d{13,19})F?$/.exec(nibbles) : /^(\d{13,19})D/.exec(nibbles);
    if (!m) continue;
    const digits = m[1];
    if (digits[0] >= '2' && digits[0] <= '6' && luhn(digits))
      out.push([how, `a Luhn-valid ${digits.length}-digit PAN in EMV tag ${tag.toString(16).toUpperCase()}`, i]);
  }
}

function directFindings(buf, how, out) {
  asciiFindings(buf, how + 'ascii', out);
  bcdFindings(buf, how + 'bcd', out);
}

// Base64 and hex text: decoded, then the direct detectors over what it holds.
function encodedFindings(buf, out) {
  const text = buf.toString('latin1');
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{12,}={0,2}/g)) {
    const run = m[0].replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
    for (let shift = 0; shift < 4 && run.length - shift >= 12; shift++) {
      const part = run.slice(shift); // Buffer decodes an unpadded tail too
      const found = [];
      directFindings(Buffer.from(part, 'base64'), 'base64>', found);
      for (const [how, what] of found) out.push([how, what, m.index + shift]);
    }
  }
  for (const m of text.matchAll(/[0-9A-Fa-f]{26,}/g)) {
    for (let shift = 0; shift < 2; shift++) {
      const part = m[0].slice(shift, shift + Math.floor((m[0].length - shift) / 2) * 2);
      const found = [];
      directFindings(Buffer.from(part, 'hex'), 'hex>', found);
      for (const [how, what] of found) out.push([how, what, m.index + shift]);
    }
  }
}

// ==== The files ====

const findings = [];
let unreadable = 0, scanned = 0;
for (const [file, mayBeAbsent] of [...scan.map((f) => [f, false]), ...optional.map((f) => [f, true])]) {
  let buf;
  try {
    buf = readFileSync(file);
  } catch (e) {
    if (mayBeAbsent && e.code === 'ENOENT') continue;
    console.log(`UNREADABLE ${file}: ${e.code || e.message}`);
    unreadable++;
    continue;
  }
  scanned++;
  const found = [];
  directFindings(buf, '', found);
  encodedFindings(buf, found);
  const seen = new Set();
  for (const [how, what, at] of found) {
    const line = `${file}: ${how}: ${what} at byte ${at}`;
    if (!seen.has(line)) { seen.add(line); findings.push(line); }
  }
}
console.log(`pan_scan: ${known.size} transcript card(s) searched for in ${scanned} file(s)`);
for (const f of findings) console.log('FOUND ' + f);
if (unreadable) {
  console.log(`pan_scan: ${unreadable} file(s) could not be read: nothing can be said of them`);
  process.exit(2);
}
process.exit(findings.length ? 1 : 0);
