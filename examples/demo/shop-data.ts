/**
 * The demo's "database": a small catalogue and an order table that both the
 * legacy service and its rewrite read and write, as two implementations of one
 * API would share one database during a migration.
 */

export interface Product {
  id: number;
  name: string;
  /** Net price in cents; the APIs show the gross price (21% VAT). */
  netCents: number;
  tags: string[];
  stock: number;
  updatedAt: Date;
}

export interface OrderLine {
  productId: number;
  qty: number;
}

export interface Order {
  id: string;
  user: string;
  lines: OrderLine[];
  createdAt: Date;
}

export const VAT_PERCENT = 21;

const base = Date.UTC(2026, 0, 15, 9, 30, 0, 250);

export const PRODUCTS: readonly Product[] = [
  { id: 1, name: 'Espresso beans 1kg', netCents: 1_990, tags: ['coffee', 'beans', 'bestseller'], stock: 42, updatedAt: new Date(base) },
  { id: 2, name: 'Espresso machine', netCents: 10_000, tags: ['machines', 'coffee'], stock: 5, updatedAt: new Date(base + 3_600_000) },
  // 2.50 net is 3.025 gross: exactly on a half cent, where rounding methods disagree.
  { id: 3, name: 'Oat milk 1l', netCents: 250, tags: ['milk', 'vegan', 'dairy-free'], stock: 120, updatedAt: new Date(base + 7_200_000) },
  { id: 4, name: 'Ceramic cup', netCents: 725, tags: ['cups', 'ceramic'], stock: 64, updatedAt: new Date(base + 10_800_000) },
  { id: 5, name: 'Milk frother', netCents: 2_490, tags: ['machines', 'milk'], stock: 0, updatedAt: new Date(base + 14_400_000) },
];

export function findProduct(id: number): Product | undefined {
  return PRODUCTS.find((p) => p.id === id);
}

export interface OrderTable {
  list(user: string | undefined): Order[];
  add(user: string, lines: OrderLine[]): Order;
  count(): number;
}

export function createOrderTable(): OrderTable {
  const orders: Order[] = [
    { id: 'ord_1001', user: 'alice', lines: [{ productId: 1, qty: 2 }], createdAt: new Date(base + 86_400_000) },
    { id: 'ord_1002', user: 'bob', lines: [{ productId: 3, qty: 6 }, { productId: 4, qty: 2 }], createdAt: new Date(base + 90_000_000) },
    { id: 'ord_1003', user: 'alice', lines: [{ productId: 2, qty: 1 }], createdAt: new Date(base + 95_000_000) },
  ];
  let next = 1004;
  return {
    list: (user) => orders.filter((o) => user === undefined || o.user === user),
    add(user, lines) {
      const order = { id: `ord_${next++}`, user, lines, createdAt: new Date() };
      orders.push(order);
      return order;
    },
    count: () => orders.length,
  };
}

/** Validates a POST /api/orders body; returns an error message or the parsed order. */
export function parseOrderBody(body: unknown): { user: string; lines: OrderLine[] } | string {
  if (!body || typeof body !== 'object') return 'body must be a JSON object';
  const { user, items } = body as { user?: unknown; items?: unknown };
  if (typeof user !== 'string' || user === '') return '"user" must be a non-empty string';
  if (!Array.isArray(items) || items.length === 0) return '"items" must be a non-empty array';
  const lines: OrderLine[] = [];
  for (const item of items as Array<{ product_id?: unknown; qty?: unknown }>) {
    const productId = Number(item?.product_id);
    const qty = Number(item?.qty ?? 1);
    if (!findProduct(productId)) return `unknown product_id ${String(item?.product_id)}`;
    if (!Number.isInteger(qty) || qty < 1) return '"qty" must be a positive integer';
    lines.push({ productId, qty });
  }
  return { user, lines };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function readBody(req: AsyncIterable<unknown>): Promise<string> {
  return (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  })();
}
