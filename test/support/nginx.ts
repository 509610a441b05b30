import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { freePort } from './ports.js';
import path from 'node:path';
import { ROOT, } from './processes.js';
import { tempDir } from './temp-dir.js';

export interface RunningNginx {
  httpUrl: string;
  httpsUrl: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Renders the shipped nginx/ files with test ports and paths (nothing else changes; several sidecar
 * ports become several upstream servers; `adminPages` turns on the opt-in include of
 * admin-pages.conf), wraps them in a minimal nginx.conf, checks them with `nginx -t` and starts
 * nginx on loopback ports. The plain-HTTP server gets the same locations as the TLS one.
 */
export async function startNginx(nginxBin: string, options: { sidecarPort: number | number[]; mainAppPort: number; uploadsDir: string; adminPages?: boolean }): Promise<RunningNginx> {
  const dir = await tempDir('sidecar-nginx-');
  const confDir = path.join(dir, 'sidecar');
  await fs.mkdir(confDir);
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await fs.mkdir(path.join(dir, sub));
  const sidecarPorts = [options.sidecarPort].flat();
  const httpPort = await freePort();
  const httpsPort = await freePort();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=shop.example.com', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });

  for (const name of await fs.readdir(path.join(ROOT, 'nginx'))) {
    let text = await fs.readFile(path.join(ROOT, 'nginx', name), 'utf8');
    text = text
      .replace(/^( *)server 127\.0\.0\.1:3001;$/m, (_, indent: string) => sidecarPorts.map((port) => `${indent}server 127.0.0.1:${port};`).join('\n'))
      .replaceAll('127.0.0.1:3000', `127.0.0.1:${options.mainAppPort}`)
      .replaceAll('/srv/sidecar/uploads/products/', `${options.uploadsDir}/`)
      .replaceAll('listen 80;', `listen 127.0.0.1:${httpPort};`)
      .replaceAll('listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`)
      .replaceAll('/etc/ssl/certs/shop.example.com.pem', path.join(dir, 'cert.pem'))
      .replaceAll('/etc/ssl/private/shop.example.com.key', path.join(dir, 'key.pem'))
      .replace(/^( *)# (include \/etc\/nginx\/sidecar\/admin-pages\.conf;)$/m, (line, indent: string, include: string) => (options.adminPages ? indent + include : line))
      .replaceAll('/etc/nginx/sidecar/', `${confDir}/`);
    if (name === 'example-site.conf') text = text.replace('return 301 https://$host$request_uri;', siteLocations(text));
    await fs.writeFile(path.join(confDir, name), text);
  }
  const mimeTypes = (await fs.access('/etc/nginx/mime.types').then(() => true, () => false)) ? 'include /etc/nginx/mime.types;' : '';
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  ${mimeTypes}
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${confDir}/example-site.conf;
}
`;
  const confFile = path.join(dir, 'nginx.conf');
  await fs.writeFile(confFile, conf);
  execFileSync(nginxBin, ['-t', '-q', '-p', dir, '-c', confFile], { stdio: 'pipe' });
  const child: ChildProcess = spawn(nginxBin, ['-p', dir, '-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 5000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(httpPort, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nginx did not start: ${await fs.readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    httpsUrl: `https://127.0.0.1:${httpsPort}`,
    dir,
    stop: async () => {
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

/** The TLS server's includes and locations, for the plain-HTTP server too. */
function siteLocations(site: string): string {
  const body = site.slice(site.lastIndexOf('ssl_certificate_key'));
  return body.slice(body.indexOf('\n') + 1, body.lastIndexOf('}')).trim();
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * One HTTP(S) request as a browser's would arrive (Host shop.example.com), self-signed TLS accepted.
 * The path goes out exactly as written (dot segments, backslashes, "#" included), as a hostile
 * client would send it, not normalised as a URL object would.
 */
export function call(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : http;
    const requestOptions: https.RequestOptions = {
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      path: url.slice(target.origin.length) || '/',
      method: options.method ?? 'GET',
      headers: { host: 'shop.example.com', ...options.headers },
      rejectUnauthorized: false,
      servername: 'shop.example.com',
    };
    const req = lib.request(requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString(), json: () => JSON.parse(body.toString()) });
      });
      // A server that dies mid-response: the promise must settle, not hang.
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error('the connection closed before the response was complete'));
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
