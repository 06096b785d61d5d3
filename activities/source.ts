/**
 * The source, right before ffmpeg reads it (each chunk attempt, and the join of the final file,
 * which copies its audio): the trigger's checks again (inside the media folders, a regular file,
 * symlinks resolved), opened, and the very version the probe read, or the job fails. The path in
 * the workflow's input was checked when the title was probed, maybe hours before; ffmpeg reads
 * the opened descriptor, so a file swapped in after this is never read.
 */
import { fingerprintChange } from '../core/media-paths';
import { openSource, type OpenedSource } from '../adapters/source-files';
import type { SourceInfo } from '../core/domain';
import { probeSource, type SourceInput } from '../adapters/ffmpeg';
import type { Logger } from '../adapters/logger';
import { sourceChangedFailure, toActivityFailure } from './failures';

export async function openProbedSource(
  mediaRoots: string[],
  input: { sourcePath: string; source?: SourceInfo },
  log: Logger,
): Promise<{ opened: OpenedSource; source: SourceInput }> {
  let opened: OpenedSource;
  try {
    opened = openSource(mediaRoots, input.sourcePath);
  } catch (err) {
    throw toActivityFailure(err);
  }
  try {
    const probed = input.source;
    const change = probed?.fingerprint && fingerprintChange(probed.fingerprint, opened.fingerprint);
    if (change) throw sourceChangedFailure(change, 'since it was probed');
    let container = probed?.container;
    if (container === undefined) {
      log.info('the probe recorded no container (an earlier Upflow): probing the opened source again');
      container = (await probeSource({ path: opened.realPath, fd: opened.fd }, input.sourcePath).catch((err: unknown) => {
        throw toActivityFailure(err);
      })).container;
    }
    return { opened, source: { path: opened.realPath, fd: opened.fd, container } };
  } catch (err) {
    opened.close();
    throw err;
  }
}
