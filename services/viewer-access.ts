/**
 * A Jellyfin viewer acting through the web script, with their own access token instead of
 * Upflow's key: Upflow asks Jellyfin whether that user may see the item (cached briefly in the
 * client), and lets them start its upscale, nothing more.
 */
import { UpflowError } from '../core/errors';
import type { ServiceDeps } from './deps';

/** Jellyfin's tokens are 32 hex digits; anything printable of a sane length is passed on, nothing that could break a header. */
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{8,256}$/;

export class ViewerAccess {
  constructor(private readonly deps: Pick<ServiceDeps, 'jellyfin'>) {}

  /** Resolves when Jellyfin says the token's user may see the item; otherwise throws why not (401, 403). */
  async requireViewer(token: string, itemId: string): Promise<void> {
    if (!TOKEN_SHAPE.test(token)) throw new UpflowError('BadInput', 'the Jellyfin token is not a token (letters, digits and ._~+/=- only)');
    const jellyfin = this.deps.jellyfin;
    if (!jellyfin) throw new UpflowError('Forbidden', "Upflow has no Jellyfin server (JELLYFIN_URL) to check a viewer's token with: use the API key");
    const access = await jellyfin.viewerAccess(token, itemId);
    if (access === 'token-refused') throw new UpflowError('Unauthorized', "Jellyfin did not accept the viewer's token: log in to Jellyfin again");
    if (access === 'not-visible') throw new UpflowError('Forbidden', `this Jellyfin user may not play item ${itemId}`);
  }
}
