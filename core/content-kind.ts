/**
 * What a title shows, as far as choosing a model goes: drawn animation (flat colours, dark
 * line art) or live action (camera footage). The Anime4K networks come in two trainings, and
 * which upscales a kind better is measured, not assumed (`upflow quality`, docs/models.md).
 */
import type { ModelId } from './models';

export const CONTENT_KINDS = ['live-action', 'animation'] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

/**
 * The model a title of each kind is upscaled with when UPFLOW_MODEL is unset: for each kind, the
 * best-scoring model fast enough for real time on a 2-core CPU (the S size), from the quality
 * set of that kind (docs/bench/quality.json; the quality test holds each to its margin over
 * lanczos). Measured, the original anime weights win on both kinds: on the photos S-an is
 * +0.47 dB over lanczos where websr's real-life retraining (S-rl) is 0.01 dB below it.
 */
export const DEFAULT_MODEL_FOR: Readonly<Record<ContentKind, ModelId>> = {
  'live-action': 'anime4k-s-an',
  animation: 'anime4k-s-an',
};

/**
 * Genres Jellyfin gives drawn titles: TMDb's and TVDB's "Animation", AniDB's and AniList's
 * "Anime". Compared without case; any one of them makes a title animation.
 */
const ANIMATION_GENRES = new Set(['animation', 'anime']);

/** A title's kind from its Jellyfin genres; undefined when they say nothing (the configured kind applies). */
export function contentKindOfGenres(genres: readonly string[]): ContentKind | undefined {
  return genres.some((genre) => ANIMATION_GENRES.has(genre.trim().toLowerCase())) ? 'animation' : undefined;
}

/** The model for a title of `kind`: the configured one for every title, else the kind's default. */
export function modelFor(upscale: { model?: ModelId; contentKind: ContentKind }, kind: ContentKind = upscale.contentKind): ModelId {
  return upscale.model ?? DEFAULT_MODEL_FOR[kind];
}
