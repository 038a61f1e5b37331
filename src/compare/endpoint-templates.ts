/**
 * Groups raw request paths of catch-all routes into templates for metric
 * labels and comparison groups: `/users/123` and `/users/456` are both
 * `/users/{id}`.
 *
 * Segments that look like identifiers are replaced at once ({id}, {uuid},
 * {hex}, {key}). Other literal segments are learned: once one position
 * under a template prefix has seen `maxLiteralsPerSegment` distinct values
 * (slugs, user names), new values there become `{param}`. Because the
 * result feeds metric labels, each route is capped at
 * `maxTemplatesPerRoute` templates; later new shapes share `/{other}`.
 */
import { classifyIdentifier } from './identifier-shapes.ts';

export interface EndpointTemplaterOptions {
  maxTemplatesPerRoute: number;
  maxLiteralsPerSegment: number;
}

export interface EndpointTemplater {
  /** The template for a raw path (query string ignored); learns from it. */
  template(route: string, path: string): string;
  /** Templates learned for a route so far, sorted. */
  templates(route: string): string[];
}

export const OVERFLOW_TEMPLATE = '/{other}';
const PARAM = '{param}';

const DEFAULTS: EndpointTemplaterOptions = { maxTemplatesPerRoute: 200, maxLiteralsPerSegment: 25 };

interface TrieNode {
  children: Map<string, TrieNode>;
  literalCount: number;
  /** Too many distinct literals seen here: new ones become {param}. */
  collapsed: boolean;
}

interface RouteState {
  root: TrieNode;
  templates: Set<string>;
}

/**
 * @example
 * const templater = createEndpointTemplater({ maxTemplatesPerRoute: 100 });
 * templater.template('catch-all', '/users/123/orders?page=2') // '/users/{id}/orders'
 */
export function createEndpointTemplater(options: Partial<EndpointTemplaterOptions> = {}): EndpointTemplater {
  const { maxTemplatesPerRoute, maxLiteralsPerSegment } = { ...DEFAULTS, ...options };
  const routes = new Map<string, RouteState>();

  const stateOf = (route: string): RouteState => {
    let state = routes.get(route);
    if (state === undefined) {
      state = { root: newNode(), templates: new Set() };
      routes.set(route, state);
    }
    return state;
  };

  return {
    template(route, path) {
      const state = stateOf(route);
      const segments = splitPath(path);
      // First pass reads only, so a path that lands in the overflow bucket
      // leaves no trace in memory.
      const labels: string[] = [];
      let node: TrieNode | undefined = state.root;
      for (const segment of segments) {
        const label = labelFor(segment, node, maxLiteralsPerSegment);
        labels.push(label);
        node = node?.children.get(label);
      }
      const template = `/${labels.join('/')}`;
      if (state.templates.has(template)) {
        markCollapses(state.root, labels);
        return template;
      }
      if (state.templates.size >= maxTemplatesPerRoute) return OVERFLOW_TEMPLATE;
      state.templates.add(template);
      insert(state.root, labels);
      return template;
    },
    templates(route) {
      return [...(routes.get(route)?.templates ?? [])].sort();
    },
  };
}

function newNode(): TrieNode {
  return { children: new Map(), literalCount: 0, collapsed: false };
}

function splitPath(path: string): string[] {
  const q = path.search(/[?#]/);
  const bare = q < 0 ? path : path.slice(0, q);
  const trimmed = bare.startsWith('/') ? bare.slice(1) : bare;
  return trimmed === '' ? [] : trimmed.split('/');
}

function labelFor(segment: string, node: TrieNode | undefined, maxLiterals: number): string {
  const shape = segment === '' ? undefined : classifyIdentifier(segment);
  if (shape !== undefined) return `{${shape}}`;
  if (node === undefined) return segment;
  if (node.children.has(segment)) return segment;
  if (node.collapsed || node.literalCount >= maxLiterals) return PARAM;
  return segment;
}

function isPlaceholder(label: string): boolean {
  return label.startsWith('{') && label.endsWith('}');
}

function insert(root: TrieNode, labels: readonly string[]): void {
  let node = root;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label === PARAM) node.collapsed = true;
    let child = node.children.get(label);
    if (child === undefined) {
      child = newNode();
      node.children.set(label, child);
      if (!isPlaceholder(label)) node.literalCount += 1;
    }
    node = child;
  }
}

function markCollapses(root: TrieNode, labels: readonly string[]): void {
  let node: TrieNode | undefined = root;
  for (let i = 0; i < labels.length && node !== undefined; i++) {
    if (labels[i] === PARAM) node.collapsed = true;
    node = node.children.get(labels[i]!);
  }
}
