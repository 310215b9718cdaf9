#!/usr/bin/env node
// Drives the third-party npm FastDFS client `fdfs` (pinned 1.0.4) against a tracker and prints
// exactly ONE JSON object on stdout. Everything else (package logs, warnings) goes to stderr.
// See README.md next to this file for the CLI, the JSON shape and the package's quirks.
//
// Exit codes: 0 = every step met its expectation; 1 = a step failed or did not meet its
// expectation (the JSON says which: top-level "step" and "error"); 2 = bad command line.

import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseArgs, format } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// fdfs 1.0.4 uses the deprecated `new Buffer(n)`: keep the DEP0005 warning out of the output.
process.noDeprecation = true;

const require = createRequire(import.meta.url);
const PKG_NAME = 'fdfs';

// ---------------------------------------------------------------------------------------------
// Output: one JSON object, printed once, then exit.

let printed = false;
const packageLog = []; // last lines the package logged at warn/error level
const PACKAGE_LOG_KEEP = 30;
let lastSystemErrorCode = null; // code of the last socket error the package logged

function emit(obj, code) {
    if (printed) {
        return;
    }
    printed = true;
    if (packageLog.length && obj.packageLog === undefined) {
        obj.packageLog = packageLog.slice(-PACKAGE_LOG_KEEP);
    }
    const text = opts && opts.pretty ? JSON.stringify(obj, null, 2) : JSON.stringify(obj);
    // Write synchronously so that process.exit() cannot cut the output short on a pipe.
    fs.writeSync(1, text + '\n');
    process.exit(code);
}

function describeError(err) {
    if (err === undefined || err === null) {
        return { error: String(err) };
    }
    if (!(err instanceof Error)) {
        // The package rejects some promises with plain strings (listGroups/listStorages).
        return { error: typeof err === 'string' ? err : safeJson(err) };
    }
    const out = { error: err.message };
    const m = /receive packet errno is: (\d+)/.exec(err.message);
    if (m) {
        // A FastDFS response header with a non-zero status byte.
        out.status = Number(m[1]);
        out.errno = Number(m[1]);
    } else if (typeof err.code === 'string') {
        out.code = err.code; // a Node.js system error (ECONNREFUSED, ECONNRESET, ...)
    } else if (/all trackers connect fail/.test(err.message) && lastSystemErrorCode) {
        // The package only logs why it could not connect; report the last socket error code.
        out.code = lastSystemErrorCode;
    }
    return out;
}

function safeJson(v) {
    try {
        return JSON.stringify(v);
    } catch {
        return String(v);
    }
}

// ---------------------------------------------------------------------------------------------
// Command line.

const USAGE = `usage: node fdfs-compat.mjs --tracker HOST:PORT [--tracker HOST:PORT ...] [--scenario NAME] [options]

scenarios (default basic):
  basic        upload a buffer, download whole + range, file info, set metadata (overwrite then
               merge), get metadata, delete, then download/info/delete again (expected errors)
  appender     upload appender, append, modify, download after each, file info, delete
               (truncate is reported as unsupported: fdfs 1.0.4 has no truncate call)
  upload-file  upload --file PATH (--via path|stream|buffer), download to a file, compare, info,
               delete (unless --keep)
  list         listGroups, then listStorages of the first group (or --group)
  single operations on --file-id ID (or uploading the content): upload, upload-appender,
               download, info, get-meta, set-meta, delete, append, modify

content (bytes the test decides; default: 1000 deterministic pseudo-random bytes):
  --content-base64 B64 | --content-hex HEX | --content-text TEXT | --content-size N [--seed S]
  --ext EXT                 file extension sent with the upload (default txt; '' for none)
  --group NAME              upload into this group (QUERY_STORE_WITH_GROUP_ONE)
  --offset N --length N     range for the range download (default size/4 and size/2)
  --meta-json JSON          metadata for the overwrite ('O') set (default {"width":"1024",...})
  --merge-json JSON         metadata for the merge ('M') set
  --meta-flag O|M           flag for the set-meta operation (default O)
  --append-base64 B64       bytes appended in 'appender' / 'append' (default "+appended")
  --modify-base64 B64       bytes written by modify (default "MOD")
  --modify-offset N         offset of the modify (default 1, 0 for 'modify' op unless given)
  --file PATH               local file for upload-file
  --via path|stream|buffer  how upload-file hands the file to the package (default path)
  --file-id ID              file id for single operations
  --out PATH                download op: write to this file (package's file-path target)
  --keep                    upload-file: do not delete at the end

client:
  --timeout MS              the package's socket timeout (default 10000)
  --step-timeout MS         give up on one step after MS (default timeout+5000): the package
                            never settles some promises (e.g. a 0-byte download)
  --charset NAME            the package's charset (default utf8)
  --max-inline N            include downloaded bytes as base64 up to N bytes (default 65536)
  --pretty                  indent the JSON
  --verbose                 copy the package's own log lines to stderr
`;

let opts;

function usageError(message) {
    process.stderr.write(USAGE);
    emit({ ok: false, step: 'args', error: message }, 2);
}

function parseCommandLine(argv) {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                tracker: { type: 'string', multiple: true },
                scenario: { type: 'string', default: 'basic' },
                'content-base64': { type: 'string' },
                'content-hex': { type: 'string' },
                'content-text': { type: 'string' },
                'content-size': { type: 'string' },
                seed: { type: 'string' },
                ext: { type: 'string' },
                group: { type: 'string' },
                offset: { type: 'string' },
                length: { type: 'string' },
                'meta-json': { type: 'string' },
                'merge-json': { type: 'string' },
                'meta-flag': { type: 'string' },
                'append-base64': { type: 'string' },
                'modify-base64': { type: 'string' },
                'modify-offset': { type: 'string' },
                file: { type: 'string' },
                via: { type: 'string' },
                'file-id': { type: 'string' },
                out: { type: 'string' },
                keep: { type: 'boolean', default: false },
                timeout: { type: 'string' },
                'step-timeout': { type: 'string' },
                charset: { type: 'string' },
                'max-inline': { type: 'string' },
                pretty: { type: 'boolean', default: false },
                verbose: { type: 'boolean', default: false },
                help: { type: 'boolean', default: false },
            },
        });
    } catch (err) {
        usageError(err.message);
    }
    const v = parsed.values;
    if (v.help) {
        process.stdout.write(USAGE);
        process.exit(0);
    }
    const o = {
        pretty: v.pretty,
        verbose: v.verbose,
        scenario: v.scenario,
        keep: v.keep,
        charset: v.charset || 'utf8',
        timeout: intOpt(v.timeout, 'timeout', 10000, 1),
        group: v.group,
        fileId: v['file-id'],
        out: v.out,
        file: v.file,
        via: v.via || 'path',
        metaFlag: v['meta-flag'] || 'O',
    };
    o.stepTimeout = intOpt(v['step-timeout'], 'step-timeout', o.timeout + 5000, 1);
    o.maxInline = intOpt(v['max-inline'], 'max-inline', 65536, 0);

    if (!v.tracker || v.tracker.length === 0) {
        usageError('--tracker HOST:PORT is required');
    }
    o.trackers = v.tracker.map(parseHostPort);

    const contentSources = ['content-base64', 'content-hex', 'content-text', 'content-size'].filter((k) => v[k] !== undefined);
    if (contentSources.length > 1) {
        usageError('give at most one of --' + contentSources.join(', --'));
    }
    if (v['content-base64'] !== undefined) {
        o.content = decodeBase64(v['content-base64'], 'content-base64');
    } else if (v['content-hex'] !== undefined) {
        if (!/^([0-9a-fA-F]{2})*$/.test(v['content-hex'])) {
            usageError('--content-hex is not an even-length hex string');
        }
        o.content = Buffer.from(v['content-hex'], 'hex');
    } else if (v['content-text'] !== undefined) {
        o.content = Buffer.from(v['content-text'], 'utf8');
    } else {
        const size = intOpt(v['content-size'], 'content-size', 1000, 0);
        o.content = deterministicBytes(size, v.seed === undefined ? 'fastdfs-compat' : v.seed);
    }
    o.ext = v.ext === undefined ? 'txt' : v.ext;
    o.extGiven = v.ext !== undefined;

    const size = o.content.length;
    o.rangeGiven = v.offset !== undefined || v.length !== undefined;
    o.offset = intOpt(v.offset, 'offset', o.rangeGiven ? 0 : Math.floor(size / 4), 0);
    o.length = intOpt(v.length, 'length', o.rangeGiven ? 0 : Math.max(1, Math.floor(size / 2)), 0);
    o.meta = jsonObjOpt(v['meta-json'], 'meta-json', { width: '1024', height: '768', author: 'fastdfs.net' });
    o.merge = jsonObjOpt(v['merge-json'], 'merge-json', { height: '1080', color: 'blue' });
    if (o.metaFlag !== 'O' && o.metaFlag !== 'M') {
        usageError('--meta-flag must be O or M');
    }
    o.appendData = v['append-base64'] !== undefined ? decodeBase64(v['append-base64'], 'append-base64') : Buffer.from('+appended');
    o.modifyData = v['modify-base64'] !== undefined ? decodeBase64(v['modify-base64'], 'modify-base64') : Buffer.from('MOD');
    o.modifyOffset = intOpt(v['modify-offset'], 'modify-offset', undefined, 0);
    if (!['path', 'stream', 'buffer'].includes(o.via)) {
        usageError('--via must be path, stream or buffer');
    }
    return o;
}

function parseHostPort(s) {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) || /^([^:]+):(\d+)$/.exec(s);
    if (!m) {
        usageError(`--tracker ${s}: expected HOST:PORT (or [IPv6]:PORT)`);
    }
    const port = Number(m[2]);
    if (!(port > 0 && port < 65536)) {
        usageError(`--tracker ${s}: bad port`);
    }
    return { host: m[1], port };
}

function intOpt(value, name, def, min) {
    if (value === undefined) {
        return def;
    }
    if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
        usageError(`--${name} ${value}: expected an integer >= ${min}`);
    }
    return Number(value);
}

function decodeBase64(s, name) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) {
        usageError(`--${name} is not valid base64`);
    }
    return Buffer.from(s, 'base64');
}

function jsonObjOpt(value, name, def) {
    if (value === undefined) {
        return def;
    }
    let v;
    try {
        v = JSON.parse(value);
    } catch (err) {
        usageError(`--${name}: ${err.message}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        usageError(`--${name}: expected a JSON object`);
    }
    return v;
}

function deterministicBytes(size, seed) {
    const out = Buffer.alloc(size);
    let block = createHash('sha256').update(String(seed)).digest();
    for (let i = 0; i < size; i += block.length) {
        block.copy(out, i, 0, Math.min(block.length, size - i));
        block = createHash('sha256').update(block).digest();
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers.

const CRC_TABLE = (() => {
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
        let c = n;
        for (let k = 0; k < 8; k++) {
            c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        }
        t[n] = c >>> 0;
    }
    return t;
})();

function crc32(buf) {
    let c = 0xffffffff;
    for (let i = 0; i < buf.length; i++) {
        c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
    }
    return (c ^ 0xffffffff) >>> 0;
}

function sha256(buf) {
    return createHash('sha256').update(buf).digest('hex');
}

function describeBytes(buf, maxInline = opts.maxInline) {
    const d = { size: buf.length, sha256: sha256(buf), crc32: crc32(buf) };
    if (buf.length <= maxInline) {
        d.base64 = buf.toString('base64');
    }
    return d;
}

// The test knows its input: echo it inline only when it is small.
function describeInput(buf) {
    return describeBytes(buf, Math.min(opts.maxInline, 256));
}

// A Writable that keeps what it is given; the package needs a real stream.Writable target
// (is-type-of checks _write/_writableState) and waits for its 'close' event.
class Collector extends Writable {
    constructor() {
        super();
        this.chunks = [];
    }
    _write(chunk, _enc, cb) {
        this.chunks.push(Buffer.from(chunk));
        cb();
    }
    get data() {
        return Buffer.concat(this.chunks);
    }
}

function sortedObject(o) {
    if (o === null || typeof o !== 'object') {
        return o;
    }
    const out = {};
    for (const k of Object.keys(o).sort()) {
        out[k] = o[k];
    }
    return out;
}

function stringValues(o) {
    const out = {};
    for (const [k, v] of Object.entries(o)) {
        out[k] = String(v);
    }
    return out;
}

function sameJson(a, b) {
    return JSON.stringify(sortedObject(a)) === JSON.stringify(sortedObject(b));
}

function withTimeout(promise, ms, what) {
    let timer;
    const t = new Promise((_, reject) => {
        timer = setTimeout(() => {
            const err = new Error(`timeout: ${what} did not settle within ${ms} ms`);
            err.code = 'ETIMEDOUT_STEP';
            reject(err);
        }, ms);
    });
    return Promise.race([Promise.resolve(promise), t]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Step runner. Each step has an expectation: 'success' (default) or 'error'. A step whose
// outcome differs, or whose check() returns a message, marks the run as failed; a 'fatal' step
// stops the scenario (later steps need its result).

class Run {
    constructor(scenario) {
        this.out = {
            ok: true,
            scenario,
            package: { name: PKG_NAME, version: null },
            trackers: opts.trackers.map((t) => (t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`)),
            input: undefined,
            fileId: undefined,
            steps: {},
        };
        this.firstFailure = null;
    }

    async step(name, fn, { expect = 'success', fatal = false, check } = {}) {
        const rec = { expect };
        this.out.steps[name] = rec;
        const started = process.hrtime.bigint();
        let value;
        let failed = false;
        try {
            value = await withTimeout(fn(), opts.stepTimeout, name);
            rec.ok = true;
            if (value !== undefined) {
                rec.result = value;
            }
        } catch (err) {
            failed = true;
            rec.ok = false;
            Object.assign(rec, describeError(err));
        }
        rec.ms = Number((process.hrtime.bigint() - started) / 1000000n);
        let problem = null;
        if (expect === 'any') {
            // Informative step: the outcome is recorded, not judged.
        } else if (expect === 'success' && failed) {
            problem = rec.error;
        } else if (expect === 'error' && !failed) {
            problem = 'expected an error, but the operation succeeded';
        } else if (check) {
            problem = check(rec, value) || null;
        }
        if (problem) {
            rec.met = false;
            rec.problem = problem;
            this.fail(name, problem, rec);
            if (fatal) {
                throw new StopScenario();
            }
        } else {
            rec.met = true;
        }
        return value;
    }

    fail(step, error, rec) {
        this.out.ok = false;
        if (!this.firstFailure) {
            this.firstFailure = { step, error };
            this.out.step = step;
            this.out.error = error;
            if (rec && rec.status !== undefined) {
                this.out.status = rec.status;
                this.out.errno = rec.errno;
            }
            if (rec && rec.code !== undefined) {
                this.out.code = rec.code;
            }
        }
    }

    skip(name, reason) {
        this.out.steps[name] = { skipped: true, reason };
    }
}

class StopScenario extends Error {}

// ---------------------------------------------------------------------------------------------
// Package operations (thin wrappers, so that the scenarios read like the package's API).

function uploadOptions(extra) {
    const o = { ext: opts.ext, ...extra };
    if (opts.group) {
        o.group = opts.group;
    }
    return o;
}

async function downloadToBuffer(fdfs, fileId, range) {
    const target = new Collector();
    const options = { target };
    if (range) {
        options.offset = range.offset;
        options.bytes = range.length;
    }
    await fdfs.download(fileId, options);
    return target.data;
}

async function fileInfo(fdfs, fileId) {
    const info = await fdfs.getFileInfo(fileId);
    // The package decodes crc32 with its buffer2Number(): a sign-extended 64-bit value
    // (0xFFFFFFFF8xxxxxxx, as stock sends) comes out as a negative int32; give both forms.
    return {
        size: info.size,
        timestamp: info.timestamp,
        crc32: info.crc32,
        crc32Unsigned: typeof info.crc32 === 'number' ? info.crc32 >>> 0 : info.crc32,
        addr: info.addr,
    };
}

function contentCheck(expected) {
    return (_rec, data) => {
        if (!Buffer.isBuffer(data)) {
            return 'no data';
        }
        return data.equals(expected) ? null : `content differs: got ${data.length} bytes sha256 ${sha256(data)}, expected ${expected.length} bytes sha256 ${sha256(expected)}`;
    };
}

// Steps return raw Buffers to check(); the record stores their description instead.
async function downloadStep(run, name, fdfs, fileId, expected, range) {
    await run.step(
        name,
        async () => downloadToBuffer(fdfs, fileId, range),
        {
            check: (rec, data) => {
                rec.result = describeBytes(data);
                if (range) {
                    rec.range = range;
                }
                const problem = contentCheck(expected)(rec, data);
                rec.result.matches = problem === null;
                return problem;
            },
        },
    );
}

function infoCheck(expected) {
    return (rec, info) => {
        const problems = [];
        const exp = { size: expected.length, crc32: crc32(expected) };
        rec.expected = exp;
        if (info.size !== exp.size) {
            problems.push(`size ${info.size} != ${exp.size}`);
        }
        // Stock computes the crc32 of the current content for appender files too (checked
        // after append + modify against stock 6.16.1).
        if (info.crc32Unsigned !== exp.crc32) {
            problems.push(`crc32 ${info.crc32Unsigned} != ${exp.crc32}`);
        }
        return problems.length ? problems.join('; ') : null;
    };
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

async function scenarioBasic(run, fdfs) {
    const content = opts.content;
    run.out.input = { ...describeInput(content), ext: opts.ext };
    const fileId = await run.step('upload', () => fdfs.upload(content, uploadOptions()), {
        fatal: true,
        check: (_rec, id) => (typeof id === 'string' && id.includes('/') ? null : `bad file id ${safeJson(id)}`),
    });
    run.out.fileId = fileId;

    await downloadStep(run, 'download', fdfs, fileId, content);

    const range = { offset: opts.offset, length: opts.length };
    // A length of 0 means "to the end of the file" in the protocol (and the package sends 0).
    const expectedRange = range.length === 0 ? content.subarray(range.offset) : content.subarray(range.offset, range.offset + range.length);
    await downloadStep(run, 'downloadRange', fdfs, fileId, expectedRange, range);

    await run.step('fileInfo', () => fileInfo(fdfs, fileId), { check: infoCheck(content) });

    await run.step('setMetaOverwrite', () => fdfs.setMetaData(fileId, opts.meta, 'O').then(() => ({ flag: 'O', sent: opts.meta })));
    const afterOverwrite = stringValues(opts.meta);
    await run.step('getMetaAfterOverwrite', () => fdfs.getMetaData(fileId), {
        check: (rec, meta) => {
            rec.expected = afterOverwrite;
            return sameJson(meta, afterOverwrite) ? null : `metadata ${safeJson(meta)} != ${safeJson(afterOverwrite)}`;
        },
    });
    await run.step('setMetaMerge', () => fdfs.setMetaData(fileId, opts.merge, 'M').then(() => ({ flag: 'M', sent: opts.merge })));
    const afterMerge = { ...afterOverwrite, ...stringValues(opts.merge) };
    await run.step('getMeta', () => fdfs.getMetaData(fileId), {
        check: (rec, meta) => {
            rec.expected = afterMerge;
            return sameJson(meta, afterMerge) ? null : `metadata ${safeJson(meta)} != ${safeJson(afterMerge)}`;
        },
    });

    await run.step('delete', () => fdfs.del(fileId));
    await run.step('downloadAfterDelete', () => downloadToBuffer(fdfs, fileId).then(describeBytes), { expect: 'error' });
    await run.step('fileInfoAfterDelete', () => fileInfo(fdfs, fileId), { expect: 'error' });
    await run.step('deleteAgain', () => fdfs.del(fileId), { expect: 'error' });
}

async function scenarioAppender(run, fdfs) {
    let expected = Buffer.from(opts.content);
    run.out.input = {
        ...describeInput(expected),
        ext: opts.ext,
        append: describeInput(opts.appendData),
        modify: { ...describeInput(opts.modifyData), offset: opts.modifyOffset ?? 1 },
    };
    const fileId = await run.step('uploadAppender', () => fdfs.upload(expected, uploadOptions({ method: 'uploadAppender' })), {
        fatal: true,
        check: (_rec, id) => (typeof id === 'string' && id.includes('/') ? null : `bad file id ${safeJson(id)}`),
    });
    run.out.fileId = fileId;
    await downloadStep(run, 'download', fdfs, fileId, expected);
    await run.step('fileInfo', () => fileInfo(fdfs, fileId), { check: infoCheck(expected) });

    await run.step('append', () => fdfs.upload(opts.appendData, { method: 'append', fileId, ext: opts.ext }));
    expected = Buffer.concat([expected, opts.appendData]);
    await downloadStep(run, 'downloadAfterAppend', fdfs, fileId, expected);

    const modifyOffset = opts.modifyOffset ?? Math.min(1, expected.length);
    await run.step('modify', () => fdfs.upload(opts.modifyData, { method: 'modify', fileId, offset: modifyOffset, ext: opts.ext }));
    expected = applyModify(expected, modifyOffset, opts.modifyData);
    await downloadStep(run, 'downloadAfterModify', fdfs, fileId, expected);

    run.skip('truncate', 'fdfs 1.0.4 has no truncate call (it defines STORAGE_PROTO_CMD_TRUNCATE_FILE but never uses it)');

    await run.step('fileInfoAfterModify', () => fileInfo(fdfs, fileId), { check: infoCheck(expected) });
    // Append to a normal (non-appender) file must be refused (stock: EINVAL 22).
    const normalId = await run.step('uploadNormal', () => fdfs.upload(Buffer.from('normal file'), uploadOptions()));
    if (normalId) {
        run.out.normalFileId = normalId;
        await run.step('appendToNormal', () => fdfs.upload(opts.appendData, { method: 'append', fileId: normalId, ext: opts.ext }), { expect: 'error' });
        await run.step('deleteNormal', () => fdfs.del(normalId));
    } else {
        run.skip('appendToNormal', 'uploadNormal failed');
        run.skip('deleteNormal', 'uploadNormal failed');
    }
    await run.step('delete', () => fdfs.del(fileId));
    await run.step('downloadAfterDelete', () => downloadToBuffer(fdfs, fileId).then(describeBytes), { expect: 'error' });
}

function applyModify(buf, offset, data) {
    const end = Math.max(buf.length, offset + data.length);
    const out = Buffer.alloc(end);
    buf.copy(out, 0);
    data.copy(out, offset);
    return out;
}

async function scenarioUploadFile(run, fdfs) {
    if (!opts.file) {
        usageError('--scenario upload-file needs --file PATH');
    }
    let content;
    try {
        content = fs.readFileSync(opts.file);
    } catch (err) {
        usageError(`--file ${opts.file}: ${err.message}`);
    }
    run.out.input = { ...describeInput(content), file: opts.file, via: opts.via };
    const fileId = await run.step('upload', () => {
        const o = uploadOptions();
        if (!opts.extGiven) {
            delete o.ext; // let the package take the extension from the path (or defaultExt '')
        }
        if (opts.via === 'path') {
            return fdfs.upload(path.resolve(opts.file), o);
        }
        if (opts.via === 'stream') {
            return fdfs.upload(fs.createReadStream(opts.file), { ...o, size: content.length });
        }
        return fdfs.upload(content, o);
    }, {
        fatal: true,
        check: (_rec, id) => (typeof id === 'string' && id.includes('/') ? null : `bad file id ${safeJson(id)}`),
    });
    run.out.fileId = fileId;

    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fdfs-compat-'));
    try {
        const target = path.join(tmpDir, 'download.bin');
        await run.step('downloadToFile', async () => {
            await fdfs.download(fileId, target); // the package opens the file itself
            return fs.readFileSync(target);
        }, {
            check: (rec, data) => {
                rec.result = describeBytes(data);
                const problem = contentCheck(content)(rec, data);
                rec.result.matches = problem === null;
                return problem;
            },
        });
    } finally {
        fs.rmSync(tmpDir, { recursive: true, force: true });
    }
    await run.step('fileInfo', () => fileInfo(fdfs, fileId), { check: infoCheck(content) });
    if (opts.keep) {
        run.skip('delete', '--keep');
    } else {
        await run.step('delete', () => fdfs.del(fileId));
    }
}

async function scenarioList(run, fdfs) {
    // fdfs 1.0.4 was written for FastDFS 4.x: it wants 105-byte group records and 600-byte
    // storage records, stock 6.x sends 113 and 487, so against stock both calls fail with
    // "byte array length:N is invalid!". The steps are informative (expect 'any').
    const groups = await run.step('listGroups', () => fdfs.listGroups(), { expect: 'any' });
    const group = opts.group || (groups && groups.groups && groups.groups[0] && groups.groups[0].groupName) || 'group1';
    await run.step('listStorages', () => fdfs.listStorages(group), { expect: 'any' });
}

function needFileId() {
    if (!opts.fileId) {
        usageError(`--scenario ${opts.scenario} needs --file-id ID`);
    }
    run.out.fileId = opts.fileId;
    return opts.fileId;
}

// Single operations: one step named after the operation.
const singleOps = {
    upload: async (run, fdfs) => {
        run.out.input = { ...describeInput(opts.content), ext: opts.ext };
        run.out.fileId = await run.step('upload', () => fdfs.upload(opts.content, uploadOptions()));
    },
    'upload-appender': async (run, fdfs) => {
        run.out.input = { ...describeInput(opts.content), ext: opts.ext };
        run.out.fileId = await run.step('uploadAppender', () => fdfs.upload(opts.content, uploadOptions({ method: 'uploadAppender' })));
    },
    download: async (run, fdfs) => {
        const fileId = needFileId();
        // Whole file unless --offset/--length is given (length 0 = to the end).
        const range = opts.rangeGiven ? { offset: opts.offset, length: opts.length } : null;
        if (opts.out) {
            await run.step('download', async () => {
                await fdfs.download(fileId, range ? { target: opts.out, offset: range.offset, bytes: range.length } : opts.out);
                return { ...describeBytes(fs.readFileSync(opts.out)), out: opts.out };
            });
        } else {
            await run.step('download', () => downloadToBuffer(fdfs, fileId, range).then(describeBytes));
        }
    },
    info: async (run, fdfs) => {
        const fileId = needFileId();
        await run.step('fileInfo', () => fileInfo(fdfs, fileId));
    },
    'get-meta': async (run, fdfs) => {
        const fileId = needFileId();
        await run.step('getMeta', () => fdfs.getMetaData(fileId));
    },
    'set-meta': async (run, fdfs) => {
        const fileId = needFileId();
        await run.step('setMeta', () => fdfs.setMetaData(fileId, opts.meta, opts.metaFlag).then(() => ({ flag: opts.metaFlag, sent: opts.meta })));
    },
    delete: async (run, fdfs) => {
        const fileId = needFileId();
        await run.step('delete', () => fdfs.del(fileId));
    },
    append: async (run, fdfs) => {
        const fileId = needFileId();
        run.out.input = { append: describeInput(opts.appendData) };
        await run.step('append', () => fdfs.upload(opts.appendData, { method: 'append', fileId }));
    },
    modify: async (run, fdfs) => {
        const fileId = needFileId();
        const offset = opts.modifyOffset ?? 0;
        run.out.input = { modify: { ...describeInput(opts.modifyData), offset } };
        await run.step('modify', () => fdfs.upload(opts.modifyData, { method: 'modify', fileId, offset }));
    },
};

const scenarios = {
    basic: scenarioBasic,
    appender: scenarioAppender,
    'upload-file': scenarioUploadFile,
    list: scenarioList,
    ...singleOps,
};

// ---------------------------------------------------------------------------------------------
// Main.

let run;

function packageLogger() {
    const sink = (level) => (...args) => {
        for (const a of args) {
            if (a instanceof Error && typeof a.code === 'string') {
                lastSystemErrorCode = a.code;
            }
        }
        const line = format(...args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : a)));
        if (level === 'error' || level === 'warn' || level === 'fatal') {
            packageLog.push(`${level}: ${line}`);
            if (packageLog.length > PACKAGE_LOG_KEEP * 2) {
                packageLog.splice(0, packageLog.length - PACKAGE_LOG_KEEP);
            }
        }
        if (opts.verbose) {
            process.stderr.write(`[fdfs ${level}] ${line}\n`);
        }
    };
    const l = {};
    for (const level of ['log', 'trace', 'debug', 'info', 'warn', 'error', 'fatal']) {
        l[level] = sink(level);
    }
    return l;
}

async function main() {
    opts = parseCommandLine(process.argv.slice(2));
    const scenario = scenarios[opts.scenario];
    if (!scenario) {
        usageError(`unknown --scenario ${opts.scenario}; known: ${Object.keys(scenarios).join(', ')}`);
    }
    run = new Run(opts.scenario);

    // Last-resort handlers: the package throws inside socket 'data' handlers in some paths.
    process.on('uncaughtException', (err) => {
        run.fail('uncaught', describeError(err).error);
        run.out.uncaught = { ...describeError(err), stack: err && err.stack ? String(err.stack) : undefined };
        emit(run.out, 1);
    });
    process.on('unhandledRejection', () => {
        // bluebird reports its own; the step runner awaits every promise it cares about.
    });

    let FdfsClient;
    try {
        FdfsClient = require(PKG_NAME);
        run.out.package.version = require(`${PKG_NAME}/package.json`).version;
    } catch (err) {
        run.fail('load', `cannot load the npm package ${PKG_NAME}: ${err.message} (run npm ci in ${path.dirname(new URL(import.meta.url).pathname)})`);
        emit(run.out, 1);
    }

    let fdfs;
    try {
        fdfs = new FdfsClient({
            trackers: opts.trackers.map((t) => ({ host: t.host, port: t.port })),
            timeout: opts.timeout,
            charset: opts.charset,
            defaultExt: '',
            logger: packageLogger(),
        });
    } catch (err) {
        run.fail('config', err.message);
        emit(run.out, 1);
    }

    try {
        await scenario(run, fdfs);
    } catch (err) {
        if (!(err instanceof StopScenario)) {
            run.fail('internal', describeError(err).error);
            run.out.internal = err && err.stack ? String(err.stack) : String(err);
        }
    }
    emit(run.out, run.out.ok ? 0 : 1);
}

main();
