import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookConnectError } from '../../shared/errors.js';
import { declaredCharset, decodeBody } from './charset.js';

function undecodable(fn: () => void, detail?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WebhookConnectError);
    assert.equal(error.code, 'WC_BODY_UNDECODABLE');
    assert.equal(error.status, 400);
    if (detail !== undefined) assert.equal(error.detail, detail);
    return true;
  });
}

test('charset parameter parsing', () => {
  assert.equal(declaredCharset(undefined), undefined);
  assert.equal(declaredCharset('application/json'), undefined);
  assert.equal(declaredCharset('application/json; charset=utf-8'), 'utf-8');
  assert.equal(declaredCharset('application/json;charset="ISO-8859-1"'), 'iso-8859-1');
  assert.equal(declaredCharset('text/plain; format=flowed; Charset = Latin-1'), 'iso-8859-1');
  assert.equal(declaredCharset('application/json; charset=cp1252'), 'windows-1252');
  assert.equal(declaredCharset('application/json; charset=windows-1252'), 'windows-1252');
  assert.equal(declaredCharset('application/json; charset=us-ascii'), 'us-ascii');
  assert.equal(declaredCharset('application/json; charset=UTF-16BE'), 'utf-16be');
  // unsupported or malformed → undeclared
  assert.equal(declaredCharset('application/json; charset=koi8-r'), undefined);
  assert.equal(declaredCharset('application/json; charset=utf 8'), undefined);
  assert.equal(declaredCharset(`application/json; charset=${'a'.repeat(65)}`), undefined);
  assert.equal(declaredCharset('application/json; charset='), undefined);
});

test('undeclared bodies are strict UTF-8 and the BOM is stripped', () => {
  assert.equal(decodeBody(Buffer.from('{"a":"é€😀"}'), undefined), '{"a":"é€😀"}');
  assert.equal(decodeBody(Buffer.from('\uFEFF{"a":1}'), 'application/json'), '{"a":1}');
  assert.equal(decodeBody(Buffer.alloc(0), undefined), '');
});

test('invalid UTF-8 without a declared charset is refused, not reinterpreted as latin-1', () => {
  const detail = 'Request body is not valid UTF-8 (declare the charset in Content-Type if it is not UTF-8)';
  undecodable(
    () => decodeBody(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]), 'application/json'),
    detail,
  );
  undecodable(() => decodeBody(Buffer.from([0xc3]), undefined), detail); // truncated sequence
  undecodable(() => decodeBody(Buffer.from([0xed, 0xa0, 0x80]), undefined), detail); // encoded surrogate
  undecodable(() => decodeBody(Buffer.from([0xc0, 0xaf]), undefined), detail); // overlong '/'
  undecodable(() => decodeBody(Buffer.from([0xe9]), 'application/json; charset=utf-8'), detail);
});

test('declared latin-1 decodes every byte as ISO-8859-1', () => {
  const bytes = Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0x63, 0x61, 0x66, 0xe9, 0x22, 0x7d]);
  assert.equal(decodeBody(bytes, 'application/json; charset=latin-1'), '{"n":"café"}');
  assert.equal(decodeBody(bytes, 'application/json; charset=ISO-8859-1'), '{"n":"café"}');
  // 0x80 is U+0080 in ISO-8859-1 (not € as in cp1252)
  assert.equal(decodeBody(Buffer.from([0x80]), 'text/plain; charset=iso-8859-1'), '\u0080');
});

test('declared cp1252 maps 0x80..0x9f to their cp1252 characters', () => {
  assert.equal(
    decodeBody(Buffer.from([0x80, 0x20, 0x93, 0x68, 0x94, 0x20, 0xe9, 0x9f]), 'text/plain; charset=cp1252'),
    '€ “h” éŸ',
  );
  assert.equal(decodeBody(Buffer.from('plain'), 'text/plain; charset=windows-1252'), 'plain');
});

test('declared ASCII refuses high bytes', () => {
  assert.equal(decodeBody(Buffer.from('{"a":1}'), 'application/json; charset=ascii'), '{"a":1}');
  undecodable(
    () => decodeBody(Buffer.from([0x41, 0xe9]), 'application/json; charset=us-ascii'),
    'Request body is not valid us-ascii',
  );
});

test('UTF-16: BOM detection, explicit endianness, strictness', () => {
  const text = '{"a":"é€😀"}';
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.from(le).swap16();
  const bomLe = Buffer.concat([Buffer.from([0xff, 0xfe]), le]);
  const bomBe = Buffer.concat([Buffer.from([0xfe, 0xff]), be]);
  assert.equal(decodeBody(le, 'application/json; charset=utf-16le'), text);
  assert.equal(decodeBody(be, 'application/json; charset=utf-16be'), text);
  assert.equal(decodeBody(bomLe, 'application/json; charset=utf-16'), text);
  assert.equal(decodeBody(bomBe, 'application/json; charset=utf-16'), text);
  assert.equal(decodeBody(le, 'application/json; charset=utf-16'), text); // no BOM: little-endian
  assert.equal(decodeBody(bomBe, 'application/json; charset=utf-16be'), text);
  // Undeclared, but a UTF-16 BOM says what it is.
  assert.equal(decodeBody(bomLe, 'application/json'), text);
  assert.equal(decodeBody(bomBe, undefined), text);
  // The input buffer is not modified by big-endian decoding.
  const copy = Buffer.from(be);
  decodeBody(be, 'application/json; charset=utf-16be');
  assert.deepEqual(be, copy);
  undecodable(
    () => decodeBody(Buffer.from([0x41, 0x00, 0x42]), 'application/json; charset=utf-16le'),
    'Request body is not valid utf-16le',
  );
  undecodable(() => decodeBody(Buffer.from([0x00, 0xd8, 0x41, 0x00]), 'application/json; charset=utf-16le')); // lone high surrogate
});

test('an unsupported declared charset falls back to strict UTF-8', () => {
  assert.equal(decodeBody(Buffer.from('{"a":"é"}'), 'application/json; charset=koi8-r'), '{"a":"é"}');
  undecodable(() => decodeBody(Buffer.from([0xe9]), 'application/json; charset=koi8-r'));
});

test('decoding respects the view of a Buffer that is a slice of a larger pool', () => {
  const pool = Buffer.from('xxxx{"a":"caf\u00e9"}yyyy', 'latin1');
  const slice = pool.subarray(4, pool.length - 4);
  assert.equal(decodeBody(slice, 'application/json; charset=latin1'), '{"a":"café"}');
  assert.equal(decodeBody(slice, 'application/json; charset=cp1252'), '{"a":"café"}');
});
