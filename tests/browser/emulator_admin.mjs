// The SWAS emulator's admin endpoint (GET /__emulator/state), over HTTPS with the test CA.
import { readFileSync } from 'node:fs';
import https from 'node:https';

export function emulatorState(port, caFile, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: 'localhost', port, method: 'GET', path: '/__emulator/state', ca: readFileSync(caFile, 'utf8'),
      timeout: timeoutMs, agent: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(new Error(`emulator state: HTTP ${res.statusCode}, not JSON: ${e.message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`emulator state: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
