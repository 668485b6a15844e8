// Reads mirrorwatch's WARC files back with an independent reader and checks them.
//
//   node tests/warc/verify.mjs [--pack] [--expect REFS.json] FILE.warc.gz...
//
// The files are parsed by warcio (webrecorder's reader, from the npm registry): records, WARC
// headers and HTTP headers; digests are recomputed with node:crypto and base32-encode, and
// member boundaries are checked again with node:zlib. Nothing here shares code with the C++
// writer. Checks, for every file:
//   - every record parses as WARC/1.1 and its block is exactly Content-Length bytes;
//   - each record is one gzip member: members follow each other from offset 0 to the end of
//     the file, and each inflates on its own to exactly one record;
//   - the first record is the file's only warcinfo, named by every other record's
//     WARC-Warcinfo-ID, and its WARC-Filename is the file's name;
//   - WARC-Block-Digest (sha1, base32) and Mirrorwatch-Block-Digest (sha256, hex) match the block;
//   - for request and response records, WARC-Payload-Digest and Mirrorwatch-Payload-Digest match
//     the payload: the HTTP body after the headers as warcio parses them, de-chunked (below)
//     when the last Transfer-Encoding coding is chunked, content coding kept (WARC/1.1 6.3.2);
//   - record ids are unique; each request is followed by its response and each names the other
//     in WARC-Concurrent-To; each metadata record is JSON and names a response.
// With --pack, each file is a referral pack's evidence.warc.gz (docs/reports.md): its first
// record is the pack's own warcinfo; the records after it are copies from the crawl's files,
// each crawl file's warcinfo among them, so a later warcinfo is allowed and a record may name
// any warcinfo record of the file in WARC-Warcinfo-ID.
// With --expect, REFS.json is {"counts": {TYPE: N...}, "refs": [{file, offset, length,
// record_id, payload_sha256, type}...]}: the record counts over all files, and records that
// the writer reported, which must be found at exactly that place.
// Exits 0 when every check passes, 1 when any fails (each failure is printed), 2 on bad usage.
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { basename } from "node:path";
import { gunzipSync } from "node:zlib";

import base32Encode from "base32-encode";
import { AsyncIterReader, WARCParser } from "warcio";

const warcioVersion = JSON.parse(
  readFileSync(new URL("./node_modules/warcio/package.json", import.meta.url)),
).version;

const problems = [];
const problem = (where, text) => problems.push(`${where}: ${text}`);
const notes = [];

const sha1Base32 = (bytes) =>
  "sha1:" + base32Encode(createHash("sha1").update(bytes).digest(), "RFC4648", { padding: false });
const sha256Hex = (bytes) => "sha256:" + createHash("sha256").update(bytes).digest("hex");

const RECORD_ID = /^<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>$/;
const WARC_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

// De-chunks as warc.h defines the payload (RFC 9112 section 7.1): the chunks' data up to the
// zero-size chunk (the trailer section is dropped) or to where the framing breaks off (a
// truncated body); a body that does not start with a chunk-size line is taken as it is.
// warcio's own de-chunker is run beside it: it keeps a trailer section as if it were content,
// so where the two differ that is printed as a note, not counted as a problem.
function dechunk(body) {
  const pieces = [];
  let at = 0;
  for (let first = true; ; first = false) {
    const lineEnd = body.indexOf("\r\n", at);
    const line = body.subarray(at, lineEnd < 0 ? body.length : lineEnd).toString("latin1");
    const size = /^([0-9a-fA-F]{1,15})(?:[;\t ]|$)/.exec(line);
    if (!size) return first ? body : Buffer.concat(pieces);
    const length = parseInt(size[1], 16);
    if (lineEnd < 0 || length === 0) return Buffer.concat(pieces);
    at = lineEnd + 2;
    pieces.push(body.subarray(at, at + length));
    if (at + length > body.length || !body.subarray(at + length, at + length + 2).equals(CRLF)) {
      return Buffer.concat(pieces);
    }
    at += length + 2;
  }
}
const CRLF = Buffer.from("\r\n");

function endsChunked(transferEncoding) {
  const codings = (transferEncoding || "").split(",").map((c) => c.trim()).filter((c) => c);
  return codings.length > 0 && codings[codings.length - 1].toLowerCase() === "chunked";
}

// Pass 1: the raw blocks, with warcio's idea of where each record's member starts and ends.
async function readBlocks(path) {
  const parser = new WARCParser(createReadStream(path), { parseHttp: false });
  const records = [];
  for await (const record of parser) {
    const bytes = await record.readFully();
    const block = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    records.push({
      statusline: record.warcHeaders.statusline,
      headers: record.warcHeaders.headers,
      type: record.warcType,
      id: record.warcHeader("WARC-Record-ID"),
      block,
      offset: parser.offset,
      length: parser.recordLength,
    });
  }
  return records;
}

// Pass 2: the HTTP records as a replay tool sees them; returns the payload of each, by record id.
async function readPayloads(path) {
  const parser = new WARCParser(createReadStream(path), { parseHttp: true });
  const payloads = new Map();
  for await (const record of parser) {
    if (!record.httpHeaders) {
      await record.skipFully();
      continue;
    }
    const bytes = await record.readFully(false);
    const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const id = record.warcHeader("WARC-Record-ID");
    let payload = raw;
    if (endsChunked(record.httpHeaders.headers.get("Transfer-Encoding"))) {
      payload = dechunk(raw);
      const byWarcio = Buffer.from(await new AsyncIterReader([raw], null, true).readFully());
      if (!byWarcio.equals(payload)) {
        notes.push(`${id}: warcio's de-chunker reads ${byWarcio.length} bytes, ` +
                   `the chunks hold ${payload.length} (a trailer section?)`);
      }
    }
    payloads.set(id, { payload, status: record.httpHeaders.statusline });
  }
  return payloads;
}

function checkMembers(path, data, records) {
  let next = 0;
  for (const record of records) {
    const where = `${basename(path)}@${record.offset}`;
    if (record.offset !== next) problem(where, `member starts at ${record.offset}, expected ${next}`);
    next = record.offset + record.length;
    let inflated;
    try {
      inflated = gunzipSync(data.subarray(record.offset, next));
    } catch (error) {
      problem(where, `member of ${record.length} bytes does not inflate: ${error.message}`);
      continue;
    }
    const head = inflated.subarray(0, inflated.indexOf("\r\n\r\n") + 4).toString("latin1");
    const expected = Buffer.concat([Buffer.from(head, "latin1"), record.block, Buffer.from("\r\n\r\n")]);
    if (!head.startsWith("WARC/1.1\r\n") || !inflated.equals(expected) || !head.includes(record.id)) {
      problem(where, "member does not inflate to exactly this one record");
    }
  }
  if (next !== data.length) problem(basename(path), `members end at ${next}, file is ${data.length} bytes`);
}

function checkRecord(where, record, file, payloads) {
  const h = record.headers;
  if (record.statusline !== "WARC/1.1") problem(where, `version line '${record.statusline}'`);
  if (!RECORD_ID.test(record.id || "")) problem(where, `WARC-Record-ID '${record.id}'`);
  if (!WARC_DATE.test(h.get("WARC-Date") || "")) problem(where, `WARC-Date '${h.get("WARC-Date")}'`);
  if (Number(h.get("Content-Length")) !== record.block.length) {
    problem(where, `Content-Length ${h.get("Content-Length")}, block has ${record.block.length} bytes`);
  }
  const digests = [
    ["WARC-Block-Digest", sha1Base32(record.block)],
    ["Mirrorwatch-Block-Digest", sha256Hex(record.block)],
  ];
  if (record.type === "request" || record.type === "response") {
    const parsed = payloads.get(record.id);
    if (!parsed) {
      problem(where, "warcio found no HTTP message in it");
    } else {
      digests.push(["WARC-Payload-Digest", sha1Base32(parsed.payload)]);
      digests.push(["Mirrorwatch-Payload-Digest", sha256Hex(parsed.payload)]);
      record.payloadSha256 = sha256Hex(parsed.payload).slice("sha256:".length);
    }
    if (!h.get("WARC-Target-URI")) problem(where, "no WARC-Target-URI");
    const wantType = `application/http;msgtype=${record.type}`;
    if (h.get("Content-Type") !== wantType) problem(where, `Content-Type '${h.get("Content-Type")}'`);
  } else {
    record.payloadSha256 = sha256Hex(record.block).slice("sha256:".length);
  }
  for (const [name, want] of digests) {
    const got = h.get(name);
    if (got !== want) problem(where, `${name} is '${got}', the bytes give '${want}'`);
    else file.digests++;
  }
  if (record.type === "warcinfo") return;
  if (!file.warcinfoIds.has(h.get("WARC-Warcinfo-ID"))) {
    problem(where, `WARC-Warcinfo-ID '${h.get("WARC-Warcinfo-ID")}' is not this file's warcinfo`);
  }
}

async function verifyFile(path, all, pack) {
  const name = basename(path);
  const data = readFileSync(path);
  const records = await readBlocks(path);
  const payloads = await readPayloads(path);
  const warcinfos = pack ? records.filter((record) => record.type === "warcinfo")
                         : records.slice(0, 1);
  const warcinfoIds = new Set(warcinfos.map((record) => record.id));
  const file = { name, records, digests: 0, warcinfoIds };
  if (records.length === 0) problem(name, "no records");
  checkMembers(path, data, records);
  if (records[0] && records[0].type !== "warcinfo") problem(name, "first record is not warcinfo");
  if (records[0]?.headers.get("WARC-Filename") !== name) {
    problem(name, `warcinfo WARC-Filename '${records[0]?.headers.get("WARC-Filename")}'`);
  }
  const info = records[0]?.block.toString("utf8") ?? "";
  if (!/^software: mirrorwatch\/\S+\r\n/.test(info)) problem(name, "warcinfo names no software");
  records.forEach((record, i) => {
    const where = `${name}@${record.offset} (${record.type})`;
    if (i > 0 && record.type === "warcinfo" && !pack) problem(where, "a second warcinfo");
    checkRecord(where, record, file, payloads);
    if (all.byId.has(record.id)) problem(where, `record id ${record.id} used twice`);
    all.byId.set(record.id, { ...record, file: name, index: i, fileRecords: records });
  });
  all.files.push(file);
}

function checkLinks(all) {
  for (const record of all.byId.values()) {
    const where = `${record.file}@${record.offset} (${record.type})`;
    const concurrent = record.headers.get("WARC-Concurrent-To");
    const other = all.byId.get(concurrent);
    if (record.type === "request") {
      const next = record.fileRecords[record.index + 1];
      if (!next || next.type !== "response" || next.id !== concurrent) {
        problem(where, "not followed by the response it names in WARC-Concurrent-To");
      } else if (next.headers.get("WARC-Concurrent-To") !== record.id) {
        problem(where, "its response does not name it in WARC-Concurrent-To");
      }
    } else if (record.type === "response") {
      if (!other || other.type !== "request") problem(where, "WARC-Concurrent-To names no request");
    } else if (record.type === "metadata") {
      if (!other || other.type !== "response") problem(where, "WARC-Concurrent-To names no response");
      try {
        JSON.parse(record.block.toString("utf8"));
      } catch (error) {
        problem(where, `block is not JSON: ${error.message}`);
      }
    }
  }
}

function checkExpectations(all, expectPath) {
  const expect = JSON.parse(readFileSync(expectPath, "utf8"));
  const counts = {};
  for (const record of all.byId.values()) counts[record.type] = (counts[record.type] || 0) + 1;
  for (const [type, n] of Object.entries(expect.counts || {})) {
    if ((counts[type] || 0) !== n) problem("counts", `${counts[type] || 0} ${type} records, expected ${n}`);
  }
  for (const ref of expect.refs || []) {
    const where = `ref ${ref.file}@${ref.offset}`;
    const record = all.byId.get(ref.record_id);
    if (!record) {
      problem(where, `no record ${ref.record_id}`);
      continue;
    }
    const got = { file: record.file, offset: record.offset, length: record.length, type: record.type,
                  payload_sha256: record.payloadSha256 };
    for (const key of Object.keys(got)) {
      if (ref[key] !== undefined && ref[key] !== got[key]) {
        problem(where, `${key} is ${got[key]} in the file, the writer said ${ref[key]}`);
      }
    }
  }
}

async function main(argv) {
  let expectPath = null;
  let pack = false;
  const paths = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--expect") expectPath = argv[++i];
    else if (argv[i] === "--pack") pack = true;
    else paths.push(argv[i]);
  }
  if (paths.length === 0 || (argv.includes("--expect") && !expectPath)) {
    console.error("usage: node verify.mjs [--pack] [--expect REFS.json] FILE.warc.gz...");
    return 2;
  }
  const all = { files: [], byId: new Map() };
  for (const path of paths) {
    try {
      await verifyFile(path, all, pack);
    } catch (error) {
      problem(basename(path), `warcio could not read it: ${error.stack || error}`);
    }
  }
  checkLinks(all);
  if (expectPath) checkExpectations(all, expectPath);

  for (const file of all.files) {
    const types = {};
    for (const record of file.records) types[record.type] = (types[record.type] || 0) + 1;
    const list = Object.entries(types).map(([type, n]) => `${type} ${n}`).join(", ");
    console.log(`${file.name}: ${file.records.length} records (${list}), ${file.digests} digests match`);
  }
  for (const note of notes) console.log(`note: ${note}`);
  for (const text of problems) console.log(`PROBLEM ${text}`);
  const digests = all.files.reduce((sum, file) => sum + file.digests, 0);
  console.log(`warcio ${warcioVersion}: ${all.files.length} files, ${all.byId.size} records, ` +
              `${digests} digests verified, ${problems.length} problems`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
