// One message as a list item: who and when, its text (or the tombstone of a deleted one), an
// "(edited)" mark, its reaction chips, and its menu (react, edit, delete). Drawn afresh from the
// message's latest state each time it changes, so the DOM never drifts from what history would show.
import { clock, h } from './dom.js';

/** The picker's choice; any other emoji a member used still shows as a chip and toggles. */
export const COMMON_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

/**
 * `mine`: this user wrote it; `canChange`: this user may edit and delete it (its author, or a
 * moderator of the room); `act` holds the callbacks `edit(m, text)`, `remove(m)`, `react(m, emoji, on)`,
 * each returning a promise whose rejection is shown on the item.
 */
export function messageItem(m, { kind, mine, canChange, act }) {
  const badge = m.via === 'api' ? h('span', { class: 'badge api', title: 'posted through the HTTP API' }, 'API')
    : m.via === 'mqtt' ? h('span', { class: 'badge device', title: 'sent by a device over MQTT' }, 'device')
      : null;
  const label = kind === 'dm' && mine ? `${m.from} → ${m.to}` : m.from;
  const edited = m.edited === undefined || m.deleted ? null
    : h('span', { class: 'edited', title: `edited ${new Date(m.edited).toLocaleString()}` }, '(edited)');
  const item = h('li', { class: `msg${mine ? ' mine' : ''}${m.deleted ? ' deleted' : ''}`, 'data-id': m.id, 'data-from': m.from, 'data-via': m.via },
    h('div', { class: 'meta' },
      h('span', { class: 'from' }, label), badge,
      h('time', { datetime: new Date(m.ts).toISOString(), title: new Date(m.ts).toLocaleString() }, clock(m.ts)), edited),
    m.deleted ? h('p', { class: 'text tombstone' }, 'message deleted') : h('p', { class: 'text' }, m.text));
  // Direct messages and tombstones take no changes.
  if (kind !== 'room' || m.deleted) return item;
  const report = (error) => note(item, error);
  // The menu sits in the top line, before the text: the text stays the item's last words.
  item.querySelector('.meta').append(
    h('button', { type: 'button', class: 'icon more-tools', 'aria-label': 'message actions', onclick: () => item.classList.toggle('open') }, '⋯'),
    menu(m, item, canChange, act, report));
  const chips = Object.entries(m.reactions ?? {}).map(([emoji, r]) =>
    h('button', { type: 'button', class: `chip${r.me ? ' me' : ''}`, 'data-emoji': emoji, 'aria-pressed': String(r.me), title: r.me ? 'remove your reaction' : 'react',
      onclick: () => act.react(m, emoji, !r.me).catch(report) }, `${emoji} ${r.count}`));
  if (chips.length > 0) item.append(h('div', { class: 'reactions' }, chips));
  return item;
}

/** Shown on hover and focus; the "⋯" button (only on screens without hover) opens it on touch. */
function menu(m, item, canChange, act, report) {
  const picker = h('span', { class: 'picker', hidden: true },
    COMMON_EMOJI.map((emoji) => h('button', { type: 'button', class: 'icon', 'data-emoji': emoji, title: `react ${emoji}`,
      onclick: () => {
        picker.hidden = true;
        const mine = m.reactions?.[emoji]?.me === true;
        act.react(m, emoji, !mine).catch(report);
      } }, emoji)));
  return h('div', { class: 'tools' },
    h('button', { type: 'button', class: 'icon', 'data-action': 'react', title: 'add a reaction', onclick: () => (picker.hidden = !picker.hidden) }, '☺'),
    picker,
    canChange ? h('button', { type: 'button', class: 'quiet', 'data-action': 'edit', onclick: () => editInline(m, item, act, report) }, 'Edit') : null,
    canChange ? h('button', { type: 'button', class: 'quiet', 'data-action': 'delete', onclick: () => {
      if (confirm('Delete this message for everyone?')) act.remove(m).catch(report);
    } }, 'Delete') : null);
}

/** Enter saves, Escape cancels; the item is redrawn by the edit event that follows the ack. */
function editInline(m, item, act, report) {
  const text = item.querySelector('p.text');
  const input = h('input', { class: 'edit-text', value: m.text, maxlength: 4000, 'aria-label': 'edit the message' });
  const cancel = () => input.replaceWith(text);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') cancel();
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const next = input.value;
    if (next.trim() === '' || next === m.text) return cancel();
    input.disabled = true;
    act.edit(m, next).then(() => input.isConnected && cancel(), (error) => {
      input.disabled = false;
      report(error);
    });
  });
  text.replaceWith(input);
  input.focus();
  input.select();
}

function note(item, error) {
  item.querySelector('.fail')?.remove();
  item.append(h('p', { class: 'fail' }, error.code === 'forbidden' ? 'Not allowed: only its author or a moderator may change it' : `Failed: ${error.message}`));
}
