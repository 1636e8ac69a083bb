// Renders /api/v1/openapi.json as a readable list of operations (no external renderer, no network).
const el = (tag, text, attributes = {}) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
};

function renderOperation(path, method, op) {
  const card = el('section', undefined, { class: 'card', 'data-testid': 'operation' });
  const title = el('h2');
  title.append(el('code', `${method.toUpperCase()} ${path}`));
  card.append(title, el('p', op.summary));
  if (op['x-operator-only']) card.append(el('p', 'Operator only', { class: 'warning' }));
  else if (!op.security) card.append(el('p', 'No credentials needed'));
  if (op.parameters?.length) {
    const table = el('table');
    const head = el('tr');
    for (const h of ['Parameter', 'In', 'Required', 'Schema']) head.append(el('th', h, { scope: 'col' }));
    table.append(head);
    for (const p of op.parameters) {
      const row = el('tr');
      row.append(el('td', p.name), el('td', p.in), el('td', p.required ? 'yes' : 'no'), el('td', JSON.stringify(p.schema)));
      table.append(row);
    }
    card.append(table);
  }
  if (op.requestBody) {
    const [type, media] = Object.entries(op.requestBody.content)[0];
    card.append(el('h3', `Body (${type})`), el('pre', JSON.stringify(media.schema, null, 2)));
  }
  card.append(el('p', `Responses: ${Object.entries(op.responses).map(([code, r]) => `${code} ${r.description}`).join(' · ')}`));
  return card;
}

async function main() {
  const doc = await (await fetch('/api/v1/openapi.json')).json();
  document.getElementById('title').textContent = `${doc.info.title} v${doc.info.version}`;
  document.getElementById('description').textContent = doc.info.description;
  const container = document.getElementById('operations');
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) container.append(renderOperation(path, method, op));
  }
  document.body.dataset.ready = 'true';
}

void main();
