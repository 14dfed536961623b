// Small DOM helpers for the chat page. Text always goes in through textContent, never as HTML,
// so a message can never inject markup.

/** Creates an element: attributes (`class`, `data-*`, `on*` handlers...) and children (nodes or text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (el === null) throw new Error(`missing element ${selector}`);
  return el;
}

/** "14:05" today, "Mar 3 14:05" on other days. */
export function clock(ts) {
  const d = new Date(ts);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString()
    ? time
    : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/** True when the scrollable element shows its bottom (within a few pixels). */
export function atBottom(el) {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
}

export function isName(value) {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(value);
}
