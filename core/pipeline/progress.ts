/**
 * What a long build reports, stage by stage. `done`/`total` are store paths for "narinfo"
 * and bytes for the rest; `total` is 0 when it is not known in advance.
 */
export type Stage = 'narinfo' | 'download' | 'verify' | 'squashfs' | 'write' | 'compress';

export interface Progress {
  stage: Stage;
  done: number;
  total: number;
}

export type ProgressListener = (p: Progress) => void;
