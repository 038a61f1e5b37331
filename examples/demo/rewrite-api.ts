/**
 * The "rewrite" of the shop API (think: the Rust port). Same endpoints, faster,
 * and with the kind of differences a real rewrite has:
 *
 * - whole prices are printed as `121.0` where legacy prints `121` (same number: should match);
 * - timestamps are `+00:00` with no milliseconds where legacy writes `.250Z`
 *   (same instant at a coarser precision: noise a timestamp rule absorbs);
 * - product tags come sorted (a reordered array: equal if order does not matter);
 * - a real bug: gross prices are rounded with binary floats, so the 2.50 € net
 *   oat milk costs 3.02 € instead of 3.03 €;
 * - GET /api/orders leaves out each order's `currency` (a missing field).
 *
 * It answers with `x-demo-backend: rewrite`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { findProduct, parseOrderBody, PRODUCTS, readBody, sleep, VAT_PERCENT, type Order, type OrderTable, type Product } from './shop-data.ts';

/** The bug: float arithmetic and toFixed, which rounds 3.025 (really 3.02499…) down. */
function grossPrice(p: Product): number {
  return Number(((p.netCents / 100) * (1 + VAT_PERCENT / 100)).toFixed(2));
}

/** RFC 3339 in UTC with an explicit offset and whole seconds, as chrono formats it. */
function timestamp(d: Date): string {
  return `${d.toISOString().slice(0, 19)}+00:00`;
}

/** Prices marked so that whole values are written as `121.0` (a float type's serializer). */
const FLOAT = Symbol('float');
type Money = { [FLOAT]: number };
const money = (value: number): Money => ({ [FLOAT]: value });

function serialize(value: unknown): string {
  const floats: number[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && FLOAT in v) {
      floats.push((v as Money)[FLOAT]);
      return `\u0000float${floats.length - 1}\u0000`;
    }
    return v;
  });
  return text.replace(/"\\u0000float(\d+)\\u0000"/g, (_m, i: string) => {
    const n = floats[Number(i)]!;
    return Number.isInteger(n) ? `${n}.0` : String(n);
  });
}

function productJson(p: Product) {
  return { id: p.id, name: p.name, price: money(grossPrice(p)), currency: 'EUR', tags: [...p.tags].sort(), stock: p.stock, updated_at: timestamp(p.updatedAt) };
}

function orderJson(o: Order, withCurrency: boolean) {
  const items = o.lines.map((l) => ({ product_id: l.productId, qty: l.qty, unit_price: grossPrice(findProduct(l.productId)!) }));
  const totalCents = items.reduce((sum, i) => sum + Math.round(i.unit_price * 100) * i.qty, 0);
  const order = {
    id: o.id,
    user: o.user,
    items: items.map((i) => ({ ...i, unit_price: money(i.unit_price) })),
    total: money(totalCents / 100),
    ...(withCurrency ? { currency: 'EUR' } : {}),
    created_at: timestamp(o.createdAt),
  };
  return order;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = serialize(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-demo-backend': 'rewrite' });
  res.end(text);
}

function events(req: IncomingMessage, res: ServerResponse, orders: OrderTable): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-demo-backend': 'rewrite' });
  res.write('retry: 2000\n\n');
  let n = 0;
  const tick = () => {
    const p = PRODUCTS[n++ % PRODUCTS.length]!;
    res.write(`event: stock\ndata: ${JSON.stringify({ product_id: p.id, stock: p.stock, orders: orders.count(), at: timestamp(new Date()) })}\n\n`);
  };
  tick();
  const timer = setInterval(tick, 1_000);
  req.on('close', () => clearInterval(timer));
}

export function createRewriteApi(options: { orders: OrderTable; delayMs?: () => number }): Server {
  const { orders } = options;
  const delay = options.delayMs ?? (() => 2 + Math.random() * 4);
  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://rewrite');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      if (path === '/api/events' && req.method === 'GET') return events(req, res, orders);
      const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : '';
      await sleep(delay());
      if (path === '/api/health' && req.method === 'GET') return send(res, 200, { status: 'ok', service: 'shop-rewrite', version: '3.0.0-rc.2' });
      if (path === '/api/products' && req.method === 'GET') {
        return send(res, 200, { products: PRODUCTS.map(productJson), count: PRODUCTS.length });
      }
      const m = /^\/api\/products\/([^/]+)$/.exec(path);
      if (m && req.method === 'GET') {
        const id = Number(m[1]);
        const product = Number.isInteger(id) ? findProduct(id) : undefined;
        return product ? send(res, 200, productJson(product)) : send(res, 404, { error: 'not_found', message: `no product ${m[1]}` });
      }
      if (path === '/api/orders' && req.method === 'GET') {
        const list = orders.list(url.searchParams.get('user') ?? undefined).map((o) => orderJson(o, false));
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
        return send(res, 201, orderJson(orders.add(input.user, input.lines), true));
      }
      return send(res, 404, { error: 'not_found', message: `no route for ${req.method} ${path}` });
    } catch (err) {
      if (!res.headersSent) send(res, 500, { error: 'internal', message: (err as Error).message });
      else res.destroy();
    }
  });
}
