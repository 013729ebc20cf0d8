/**
 * A minimal Lambda runtime client for Node.js bundles, run as its own process per execution
 * environment (test/support/lambda/runtime.ts starts it). Like the managed nodejs runtime it loads
 * `$LAMBDA_TASK_ROOT/<module>.mjs` named by `_HANDLER` ("index.handler") once, then loops on the
 * Lambda Runtime API at `$AWS_LAMBDA_RUNTIME_API`: GET invocation/next → call the handler with the
 * event and a context → POST invocation/<id>/response or /error. An import failure is reported to
 * init/error. `_X_AMZN_TRACE_ID` is set per invocation from the Lambda-Runtime-Trace-Id header, as
 * the managed runtime does. Logs go to stdout/stderr unchanged (the function's log stream).
 */
import { request } from 'node:http';
import { pathToFileURL } from 'node:url';

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const base = '/2018-06-01/runtime';

/** One HTTP exchange with the Runtime API; no timeout (invocation/next waits as long as it must). */
function call(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const [host, port] = api.split(':');
    const req = request({ host, port: Number(port), method, path: `${base}${path}`, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const errorBody = (e) => JSON.stringify({
  errorType: e instanceof Error ? e.name : typeof e,
  errorMessage: e instanceof Error ? e.message : String(e),
  trace: e instanceof Error && typeof e.stack === 'string' ? e.stack.split('\n') : [],
});

const [moduleName, exportName] = (process.env._HANDLER ?? 'index.handler').split('.');
let handler;
try {
  const mod = await import(pathToFileURL(`${process.env.LAMBDA_TASK_ROOT}/${moduleName}.mjs`).href);
  handler = mod[exportName];
  if (typeof handler !== 'function') throw new TypeError(`${process.env._HANDLER} is not a function`);
} catch (e) {
  console.error('INIT_REPORT init error', e);
  await call('POST', '/init/error', errorBody(e), { 'lambda-runtime-function-error-type': 'Runtime.ImportModuleError' });
  process.exit(1);
}

for (;;) {
  const next = await call('GET', '/invocation/next');
  const id = String(next.headers['lambda-runtime-aws-request-id']);
  const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
  const trace = next.headers['lambda-runtime-trace-id'];
  if (typeof trace === 'string') process.env._X_AMZN_TRACE_ID = trace;
  else delete process.env._X_AMZN_TRACE_ID;
  const context = {
    awsRequestId: id,
    invokedFunctionArn: String(next.headers['lambda-runtime-invoked-function-arn']),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const result = await handler(JSON.parse(next.body), context);
    await call('POST', `/invocation/${id}/response`, JSON.stringify(result ?? null));
  } catch (e) {
    console.error('Invoke Error', e);
    await call('POST', `/invocation/${id}/error`, errorBody(e), { 'lambda-runtime-function-error-type': 'Runtime.UnhandledError' });
  }
}
