/**
 * The "legacy" shop API, in the style of the Node/Python services our users
 * are leaving: correct, a little slow. It answers with `x-demo-backend: legacy`
 * so you can see where cutover sent a request.
 *
 *   GET  /api/products         GET  /api/products/:id
 *   GET  /api/orders?user=     POST /api/orders {"user":"alice","items":[{"product_id":1,"qty":2}]}
 *   GET  /api/health           GET  /api/events   (server-sent events)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { findProduct, parseOrderBody, PRODUCTS, readBody, sleep, VAT_PERCENT, type Order, type OrderTable, type Product } from './shop-data.ts';

/** Gross price with half-up rounding on whole cents, as the legacy Decimal code does. */
function grossPrice(p: Product): number {
  return Math.floor((p.netCents * (100 + VAT_PERCENT) + 50) / 100) / 100;
}

function productJson(p: Product) {
  return { id: p.id, name: p.name, price: grossPrice(p), currency: 'EUR', tags: p.tags, stock: p.stock, updated_at: p.updatedAt.toISOString() };
}

function orderJson(o: Order) {
  const items = o.lines.map((l) => ({ product_id: l.productId, qty: l.qty, unit_price: grossPrice(findProduct(l.productId)!) }));
  const totalCents = items.reduce((sum, i) => sum + Math.round(i.unit_price * 100) * i.qty, 0);
  return { id: o.id, user: o.user, items, total: totalCents / 100, currency: 'EUR', created_at: o.createdAt.toISOString() };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-demo-backend': 'legacy' });
  res.end(text);
}

function events(req: IncomingMessage, res: ServerResponse, orders: OrderTable): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-demo-backend': 'legacy' });
  res.write('retry: 2000\n\n');
  let n = 0;
  const tick = () => {
    const p = PRODUCTS[n++ % PRODUCTS.length]!;
    res.write(`event: stock\ndata: ${JSON.stringify({ product_id: p.id, stock: p.stock, orders: orders.count(), at: new Date().toISOString() })}\n\n`);
  };
  tick();
  const timer = setInterval(tick, 1_000);
  req.on('close', () => clearInterval(timer));
}

export function createLegacyApi(options: { orders: OrderTable; delayMs?: () => number }): Server {
  const { orders } = options;
  const delay = options.delayMs ?? (() => 15 + Math.random() * 25);
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://legacy');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      if (path === '/api/events' && req.method === 'GET') return events(req, res, orders);
      const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : '';
      await sleep(delay());
      if (path === '/api/health' && req.method === 'GET') return send(res, 200, { status: 'ok', service: 'shop-legacy', version: '2.14.3' });
      if (path === '/api/products' && req.method === 'GET') {
        return send(res, 200, { products: PRODUCTS.map(productJson), count: PRODUCTS.length });
      }
      const m = /^\/api\/products\/([^/]+)$/.exec(path);
      if (m && req.method === 'GET') {
        const product = findProduct(Number(m[1]));
        return product ? send(res, 200, productJson(product)) : send(res, 404, { error: 'not_found', message: `no product ${m[1]}` });
      }
      if (path === '/api/orders' && req.method === 'GET') {
        const list = orders.list(url.searchParams.get('user') ?? undefined).map(orderJson);
        return send(res, 200, { orders: list, count: list.length });
      }
      if (path === '/api/orders' && req.method === 'POST') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return send(res, 400, { error: 'bad_request', message: 'body is not JSON' });
        }
        const input = parseOrderBody(parsed);
        if (typeof input === 'string') return send(res, 400, { error: 'bad_request', message: input });
        return send(res, 201, orderJson(orders.add(input.user, input.lines)));
      }
      return send(res, 404, { error: 'not_found', message: `no route for ${req.method} ${path}` });
    } catch (err) {
      if (!res.headersSent) send(res, 500, { error: 'internal', message: (err as Error).message });
      else res.destroy();
    }
  });
}
