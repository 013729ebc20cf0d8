
const t0 = performance.now();
const m = await import(process.argv[2]);
const t1 = performance.now();
const name = process.argv[3];
const context = { functionName: 'daemonless-' + name, functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:daemonless-' + name,
  memoryLimitInMB: '512', awsRequestId: 'bench', logGroupName: '/aws/lambda/x', logStreamName: 'x', callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60000, done() {}, fail() {}, succeed() {} };
const events = {
  webhook: { version: '2.0', routeKey: '$default', rawPath: '/hook/nope', rawQueryString: '', headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: '/hook/nope', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: 'r', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0, accountId: '1', apiId: 'a', domainName: 'd', domainPrefix: 'd' },
    body: '{}', isBase64Encoded: false },
  reconcile: { Records: [] },
  resync: { source: 'daemonless.resync', scheduledTime: new Date().toISOString() },
};
let outcome = 'ok';
try { await m.handler(events[name], context); } catch (e) { outcome = String(e && e.name || e); }
const t2 = performance.now();
console.error(JSON.stringify({ probe: { start: t0, load: t1 - t0, invoke: t2 - t1, outcome } }));
process.exit(0);
