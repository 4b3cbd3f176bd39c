// An OTLP/HTTP trace receiver for the tests: decodes each POST with the official
// OpenTelemetry protobuf schema (the generated code @opentelemetry/otlp-transformer 0.52
// ships), or as OTLP/JSON, and appends one JSON line per request to OUT:
// {"path":..., "contentType":..., "request": <ExportTraceServiceRequest as an object, ids as
// hex>}. Prints its port on stdout once listening on loopback. FAIL=N answers the first N
// requests with 503 (they are not written).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const [modDir, out] = process.argv.slice(2);
const root = require(path.join(modDir, '@opentelemetry/otlp-transformer/build/src/generated/root.js'));
const Req = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
let fail = parseInt(process.env.FAIL || '0', 10);

const hex = (b) => Buffer.from(b).toString('hex');

function toPlain(msg) {
    const o = Req.toObject(msg, { longs: String, enums: Number, bytes: Array, defaults: false });
    for (const rs of o.resourceSpans || [])
        for (const ss of rs.scopeSpans || [])
            for (const s of ss.spans || []) {
                s.traceId = hex(s.traceId || []);
                s.spanId = hex(s.spanId || []);
                if (s.parentSpanId) s.parentSpanId = hex(s.parentSpanId);
                for (const l of s.links || []) {
                    l.traceId = hex(l.traceId || []);
                    l.spanId = hex(l.spanId || []);
                }
            }
    return o;
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        if (fail > 0) {
            fail--;
            res.writeHead(503);
            res.end();
            return;
        }
        const body = Buffer.concat(chunks);
        const ct = req.headers['content-type'] || '';
        let request;
        try {
            request = ct.includes('json') ? JSON.parse(body.toString('utf8')) : toPlain(Req.decode(body));
        } catch (e) {
            request = { error: String(e) };
        }
        fs.appendFileSync(out, JSON.stringify({ path: req.url, contentType: ct, request }) + '\n');
        res.writeHead(200, { 'Content-Type': ct.includes('json') ? 'application/json' : 'application/x-protobuf' });
        res.end(ct.includes('json') ? '{}' : '');
    });
});
server.listen(0, '127.0.0.1', () => {
    process.stdout.write(server.address().port + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
