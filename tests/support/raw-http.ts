/**
 * One HTTP request with its path sent byte for byte: fetch resolves `..` and encodes, which
 * would hide exactly the paths a test of path handling must send.
 */
import http from 'node:http';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed, when it is JSON. */
  json?: { error?: string } & Record<string, unknown>;
}

export function rawRequest(base: string, method: string, requestPath: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path: requestPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let json: RawAnswer['json'];
        try {
          json = JSON.parse(body.toString('utf8')) as RawAnswer['json'];
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
