// Looks for card numbers (PANs) in files: node pan_scan.mjs --cards TRANSCRIPT... --scan FILE...
// The PANs of the given EMV transcripts (track 2, tag 57, and tag 5A; Luhn-valid or
// not, as the card holds them) are searched
// for as plain digit strings anywhere in each file, binary or not; and any run of
// 13-19 digits (optionally grouped by spaces or hyphens) that passes the Luhn check is
// reported too, except runs starting with 1 (millisecond Unix times, 13 digits, are
// everywhere; no issuer range of the payment schemes we read starts with 1).
// Exit 0 when nothing is found, 1 with the findings (masked), 2 on bad usage.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const cards = [], scan = [];
let into = null;
for (const a of args) {
  if (a === '--cards') into = cards;
  else if (a === '--scan') into = scan;
  else if (into) into.push(a);
  else { console.error('usage: pan_scan.mjs --cards FILE... --scan FILE...'); process.exit(2); }
}
if (cards.length === 0 || scan.length === 0) {
  console.error('usage: pan_scan.mjs --cards FILE... --scan FILE...');
  process.exit(2);
}

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

const findings = [];
for (const file of scan) {
  let text;
  try { text = readFileSync(file, 'latin1'); } catch { continue; } // optional files (-wal)
  for (const pan of known) {
    const at = text.indexOf(pan);
    if (at >= 0) findings.push(`${file}: the transcript card ${mask(pan)} at byte ${at}`);
  }
  for (const m of text.matchAll(/(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])/g)) {
    const digits = m[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && digits[0] !== '1' && luhn(digits))
      findings.push(`${file}: a Luhn-valid ${digits.length}-digit number ${mask(digits)} at byte ${m.index}`);
  }
}
console.log(`pan_scan: ${known.size} transcript card(s) searched for in ${scan.length} file(s)`);
if (findings.length) {
  for (const f of findings) console.log('FOUND ' + f);
  process.exit(1);
}
