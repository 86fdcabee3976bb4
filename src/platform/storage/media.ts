/** Where stored media are served: the app serves DATA_DIR/media under this prefix, nginx does in the fleet. */
export const MEDIA_PREFIX = '/media/';

export function mediaUrl(relativePath: string | null): string | null {
  return relativePath === null ? null : `${MEDIA_PREFIX}${relativePath}`;
}
