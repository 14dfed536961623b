// On a phone the sidebar is a drawer over the conversation, opened by the menu button and closed
// by its own close button, by Escape, or by a tap beside it.
import { $ } from './dom.js';

export function setUpDrawer() {
  $('#menu').addEventListener('click', () => toggleDrawer());
  $('#drawer-close').addEventListener('click', () => {
    toggleDrawer(false);
    $('#menu').focus();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !$('#sidebar').classList.contains('open')) return;
    toggleDrawer(false);
    $('#menu').focus();
  });
  document.querySelector('.conversation').addEventListener('click', () => toggleDrawer(false), { capture: true });
}

/** Opens (true), closes (false) or flips (undefined) the drawer. */
export function toggleDrawer(open) {
  const sidebar = $('#sidebar');
  const next = open ?? !sidebar.classList.contains('open');
  sidebar.classList.toggle('open', next);
  $('#menu').setAttribute('aria-expanded', String(next));
}
