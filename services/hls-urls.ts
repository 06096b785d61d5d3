/** Where a player fetches a title's playlist: the HLS base URL, signed for the title when the API has a key. */
import type { Config } from '../core/config';
import { hlsPlaylistPath, hlsTokens, signHlsToken, type HlsTokens } from '../core/hls-access';

export class HlsUrls {
  /** Set with UPFLOW_API_KEY: every `hls_url` carries a token for its title alone. */
  private readonly tokens: HlsTokens | undefined;

  constructor(private readonly config: Pick<Config, 'hlsBaseUrl' | 'api' | 'hls'>) {
    this.tokens = hlsTokens(config.api.apiKey, config.hls.tokenTtlMs);
  }

  /**
   * The title's playlist. With a key, signed anew for UPFLOW_HLS_TOKEN_TTL from now, so that
   * players which cannot send headers (hls.js, ffplay, VLC) need only the URL.
   */
  playlist(titleKey: string): string {
    const token = this.tokens && signHlsToken(this.tokens, titleKey, Date.now());
    return `${this.config.hlsBaseUrl}/${hlsPlaylistPath(titleKey, token)}`;
  }
}
