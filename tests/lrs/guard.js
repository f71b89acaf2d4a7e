// Loaded with `node -r ./guard.js` in front of LearningLocker's xapi-statements (tests only).
//
// Why it exists: in memory mode (AUTH_REPO=test) the LRS accepts any credentials and listens on
// every interface, on a port it does not report when asked for port 0. This preload
//   - binds the server to 127.0.0.1 on LRS_PORT (default 0 = any free port),
//   - prints `LRS listening on http://127.0.0.1:PORT` once bound, so the test knows the port,
//   - rejects requests whose Basic credentials differ from LRS_BASIC_AUTH ("user:password")
//     with 401, as a real LRS does; /xAPI/about stays open (readiness probe, as the spec allows).
'use strict';
const http = require('http');

const expected = 'Basic ' + Buffer.from(process.env.LRS_BASIC_AUTH || 'learnflow:secret').toString('base64');
const port = Number(process.env.LRS_PORT || 0);
const originalCreateServer = http.createServer;

function gate(handler) {
  return function (req, res) {
    const open = req.url === '/xAPI/about' || req.url.startsWith('/xAPI/about?');
    if (!open && req.headers.authorization !== expected) {
      res.writeHead(401, {
        'Content-Type': 'application/json',
        'WWW-Authenticate': 'Basic realm="learnflow test LRS"',
        'X-Experience-API-Version': '1.0.3',
      });
      res.end(JSON.stringify({ message: 'Unauthorised: wrong or missing Basic credentials' }));
      return;
    }
    return handler.call(this, req, res);
  };
}

http.createServer = function (...args) {
  const i = args.findIndex((a) => typeof a === 'function');
  if (i >= 0) args[i] = gate(args[i]);
  const server = originalCreateServer.apply(this, args);
  const originalListen = server.listen;
  server.listen = function (...listenArgs) {
    const callback = listenArgs.find((a) => typeof a === 'function');
    return originalListen.call(server, port, '127.0.0.1', function () {
      process.stdout.write(`LRS listening on http://127.0.0.1:${server.address().port}\n`);
      if (callback) callback.apply(this, arguments);
    });
  };
  return server;
};
