import { login, medianLatency, ratio, signedCookie, startVariant } from './lib.mjs';

/** Median latency of a request carrying an unknown session id, against a valid one. */
export async function unknownSession({ quick }) {
  const count = quick ? 200 : 1000;
  const file = await startVariant('file');
  const stock = await startVariant('stock');
  try {
    const valid = await login(file.url);
    const unknown = signedCookie('unknownsessionid0123456789abcd');
    await medianLatency(`${file.url}/api/user`, { cookie: valid }, 50);
    const validMs = await medianLatency(`${file.url}/api/user`, { cookie: valid }, count);
    const unknownMs = await medianLatency(`${file.url}/api/user`, { cookie: unknown }, count);
    const stockUnknownMs = await medianLatency(`${stock.url}/api/user`, { cookie: unknown }, 5);
    return {
      name: 'Unknown session id latency (sequential requests, median)',
      rows: [
        { variant: 'file store, valid session', p50: round(validMs) },
        { variant: 'file store, unknown session', p50: round(unknownMs) },
        { variant: 'stock store, unknown session', p50: round(stockUnknownMs) },
      ],
      figures: [
        { name: 'unknown / valid median latency', value: ratio(unknownMs, validMs), target: '<= 2', pass: unknownMs / validMs <= 2 },
        { name: 'stock unknown / file valid median latency', value: ratio(stockUnknownMs, validMs), target: 'reference (~255 ms each)' },
      ],
    };
  } finally {
    await Promise.all([file.stop(), stock.stop()]);
  }
}

const round = (ms) => Math.round(ms * 100) / 100;
