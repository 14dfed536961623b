import type { Session } from './session.js';

/**
 * Whether the session's user may edit and delete other users' messages in `room`. The one hook the
 * change handlers ask; room moderators are built separately, so until they land nobody may, and
 * only a message's author changes it. (The parameters are what the real rule will read.)
 */
export function mayModerate(_session: Session, _room: string): boolean {
  return false;
}
